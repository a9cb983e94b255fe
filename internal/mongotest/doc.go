// Package mongotest is an in-process MongoDB wire-protocol test server: the
// primary of a one-node replica set ("rs0") that the official Go driver
// (go.mongodb.org/mongo-driver/v2) accepts. Filters, updates, projections,
// sorts and aggregation stages are evaluated by the sibling package mquery.
//
// What it implements:
//
//   - Wire protocol: OP_QUERY (the legacy handshake, answered with
//     OP_REPLY) and OP_MSG (kind-0 body, kind-1 document sequences, optional
//     CRC-32C checksum; moreToCome requests are run and not answered).
//     Replies never set moreToCome (no exhaust streaming).
//   - hello / isMaster with the replica-set fields the driver needs; a
//     streaming hello (topologyVersion + maxAwaitTimeMS) waits until
//     maxAwaitTimeMS passes, the topology version changes or the server closes.
//   - Commands: ping, buildInfo (7.0.0), getParameter ("*" or by name),
//     endSessions, killAllSessions, insert, update (multi, upsert,
//     operators, replacement, aggregation pipeline), delete (limit 0 or 1),
//     find (filter, projection, sort, skip, limit, batchSize, singleBatch),
//     findAndModify (query, sort, update or remove, new, upsert, fields),
//     count, distinct, aggregate (with a cursor; $listLocalSessions on
//     admin), getMore, killCursors, create (collections and views), collMod
//     (changeStreamPreAndPostImages, validator, index hidden and
//     expireAfterSeconds), drop, dropDatabase, listCollections,
//     listDatabases, createIndexes (unique and sparse unique indexes
//     enforced: E11000, code 11000, with keyPattern and keyValue),
//     listIndexes, dropIndexes, renameCollection (admin), and the test
//     command configureFailPoint.
//   - Replies carry $clusterTime and operationTime; errors carry code,
//     codeName and errmsg (those of mquery included) and the error labels a
//     MongoDB 7.0 primary attaches (labels.go); write errors come back as
//     writeErrors, as MongoDB does. Unknown commands fail with 59
//     CommandNotFound; an update statement's sort (MongoDB 8.0) fails the
//     command with 40415, as 7.0 does.
//   - Authentication (auth.go): SCRAM-SHA-256 and SCRAM-SHA-1 through
//     saslStart/saslContinue and hello's speculativeAuthenticate and
//     saslSupportedMechs; users made with createUser or WithUser (access
//     control on: only hello, ping, buildInfo and the SASL commands run
//     before authenticating; 18 AuthenticationFailed for a wrong password;
//     no roles: an authenticated user may run everything).
//   - Document validation (a query validator, validationLevel,
//     validationAction, bypassDocumentValidation): 121 with errInfo.
//   - Retryable writes: a write retried with the same lsid and txnNumber
//     gets the first reply back and is not applied twice.
//   - Change streams as MongoDB 7 (collection, database and
//     allChangesForCluster streams): insert, update, replace, delete, drop,
//     rename, dropDatabase and invalidate events, and with
//     showExpandedEvents create, createIndexes, dropIndexes and modify,
//     collectionUUID, operationDescription and disambiguatedPaths;
//     truncatedArrays for pipeline updates; fullDocument (default,
//     updateLookup, whenAvailable, required) and fullDocumentBeforeChange
//     (off, whenAvailable, required), images existing only while the
//     collection has changeStreamPreAndPostImages enabled; resumeAfter,
//     startAfter, startAtOperationTime; $match, $project, $addFields/$set,
//     $unset, $replaceRoot/$replaceWith stages after $changeStream and
//     $changeStreamSplitLargeEvent last (events over 16 MiB otherwise fail
//     with 10334); a postBatchResumeToken in every batch, advancing on quiet
//     streams; getMore waits for events up to maxTimeMS (1 s by default).
//   - A bounded history (WithHistory, TrimHistory): resuming from before it
//     fails with 286 ChangeStreamHistoryLost; malformed tokens with 260
//     InvalidResumeToken.
//   - Fail points (failpoint.go): failCommand (errorCode, errorLabels,
//     closeConnection, blockConnection/blockTimeMS, writeConcernError,
//     appName, namespace; times, skip, alwaysOn, activationProbability),
//     failGetMoreAfterCursorCheckout and onPrimaryTransactionalWrite. The
//     Go helpers FailCommand and CloseOnCommand install failures on the
//     same machinery; DropConnections, SetLatency and RefuseConnections are
//     network faults.
//
// What it does not implement: TLS, compression, transactions (refused),
// sessions beyond retryable writes and $listLocalSessions, read and write
// concerns (accepted and ignored: there is one node), collations,
// arrayFilters, let and $expr, $lookup/$out/$merge, capped collections, TTL
// expiry (expireAfterSeconds is accepted and never enforced), partial
// indexes, explain, tailable cursors, the NoWritesPerformed label, and
// persistence: all data lives in memory. MongoDB's own specification tests
// check it: see CONFORMANCE.md (make conformance).
//
// Faults and the driver: after a connection fault (DropConnections,
// CloseOnCommand) the driver v2.10 marks the server Unknown and its monitor
// may wait a whole heartbeat (10 s by default) before checking again, as it
// would with a real server; operations wait for server selection meanwhile.
// Tests that inject faults should give their client a short heartbeat
// (options.Client().SetHeartbeatInterval(500*time.Millisecond), or
// heartbeatFrequencyMS=500 in the URI).
//
// Integration tests call ForTest, which uses a real replica set when
// WATCHER_TEST_MONGO_URI is set, and RequireFaults to skip tests that need
// fault injection there.
package mongotest

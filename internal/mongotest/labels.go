package mongotest

// Error code categories of MongoDB 7.0 (src/mongo/base/error_codes.yml)
// that decide the error labels a server attaches.
var (
	// retriableCodes: the RetriableError category.
	retriableCodes = map[int32]bool{
		6: true, 7: true, 89: true, 91: true, 134: true, 189: true, 262: true,
		9001: true, 10107: true, 11600: true, 11602: true, 13435: true, 13436: true,
	}
	// networkCodes: the NetworkError category.
	networkCodes = map[int32]bool{6: true, 7: true, 89: true, 9001: true}
	// retargetCodes: the NeedRetargettingError category.
	retargetCodes = map[int32]bool{150: true, 13388: true}
	// nonResumableCodes: the NonResumableChangeStreamError category.
	nonResumableCodes = map[int32]bool{280: true, 286: true}
	// shutdownCodes: the ShutdownError category.
	shutdownCodes = map[int32]bool{91: true, 11600: true}
)

// Error labels.
const (
	labelRetryableWrite    = "RetryableWriteError"
	labelResumable         = "ResumableChangeStreamError"
	labelNonResumable      = "NonResumableChangeStreamError"
	labelTransientTxnError = "TransientTransactionError"
)

// errorLabels are the labels a MongoDB 7.0 primary attaches to a command
// error with code (and wcCode, a write concern error's code, 0 if none), as
// its ErrorLabelBuilder does: RetryableWriteError on a retryable write (a
// txnNumber outside a transaction) failing with a retriable code;
// otherwise ResumableChangeStreamError on a change stream's aggregate or
// getMore failing with a retriable, network, retargeting, RetryChangeStream
// (234) or FailedToSatisfyReadPreference (133) code, or
// NonResumableChangeStreamError for the codes of that category.
func errorLabels(x *cmdCtx, code, wcCode int32) []string {
	_, hasTxn := x.get("txnNumber")
	_, inTxn := x.get("autocommit")
	if hasTxn && !inTxn && (retriableCodes[code] || retriableCodes[wcCode]) {
		return []string{labelRetryableWrite}
	}
	if code == 0 {
		return nil
	}
	resumableCode := retriableCodes[code] || networkCodes[code] || retargetCodes[code] || code == 234 || code == 133
	if (x.name == "aggregate" || x.name == "getMore") && wcCode == 0 && resumableCode && x.changeStream {
		return []string{labelResumable}
	}
	if nonResumableCodes[code] {
		return []string{labelNonResumable}
	}
	return nil
}

// stateChangeCodes are the "not primary" and "node is recovering" codes of
// the server discovery and monitoring spec.
var stateChangeCodes = map[int32]bool{
	91: true, 189: true, 10107: true, 11600: true, 11602: true,
	13435: true, 13436: true, 10058: true,
}

// codeNames maps error codes to MongoDB's code names.
var codeNames = map[int32]string{
	1: "InternalError", 2: "BadValue", 6: "HostUnreachable", 7: "HostNotFound",
	8: "UnknownError", 9: "FailedToParse", 11: "UserNotFound", 13: "Unauthorized",
	14: "TypeMismatch", 17: "ProtocolError", 18: "AuthenticationFailed",
	20: "IllegalOperation", 26: "NamespaceNotFound", 27: "IndexNotFound",
	28: "PathNotViable", 40: "ConflictingUpdateOperators", 43: "CursorNotFound",
	48: "NamespaceExists", 50: "MaxTimeMSExpired", 51: "ManualInterventionRequired",
	52: "DollarPrefixedFieldName", 53: "InvalidIdField", 56: "EmptyFieldName",
	59: "CommandNotFound", 63: "StaleShardVersion", 64: "WriteConcernFailed",
	66: "ImmutableField", 67: "CannotCreateIndex", 72: "InvalidOptions",
	73: "InvalidNamespace", 79: "UnknownReplWriteConcern", 85: "IndexOptionsConflict",
	86: "IndexKeySpecsConflict", 89: "NetworkTimeout", 91: "ShutdownInProgress",
	96: "OperationFailed", 100: "UnsatisfiableWriteConcern", 112: "WriteConflict",
	115: "CommandNotSupported", 121: "DocumentValidationFailure",
	133: "FailedToSatisfyReadPreference", 134: "ReadConcernMajorityNotAvailableYet",
	136: "CappedPositionLost", 150: "StaleEpoch", 168: "InvalidPipelineOperator",
	189: "PrimarySteppedDown", 211: "KeyNotFound", 234: "RetryChangeStream",
	237: "CursorKilled", 251: "NoSuchTransaction", 260: "InvalidResumeToken",
	262: "ExceededTimeLimit", 280: "ChangeStreamFatalError", 286: "ChangeStreamHistoryLost",
	334: "MechanismUnavailable", 9001: "SocketException", 10058: "LegacyNotPrimary",
	10107: "NotWritablePrimary", 11000: "DuplicateKey", 11600: "InterruptedAtShutdown",
	11601: "Interrupted", 11602: "InterruptedDueToReplStateChange", 13388: "StaleConfig",
	13435: "NotPrimaryNoSecondaryOk", 13436: "NotPrimaryOrSecondary",
	40414: "IDLFailedToParse", 40415: "IDLUnknownField",
	50768: "NotARetryableWriteCommand",
}

func codeName(code int32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return "Location" + itoa(int64(code))
}

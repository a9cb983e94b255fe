package mongotest

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const (
	maxWireVersion    = 21
	maxBSONObjectSize = 16 * 1024 * 1024
	maxWriteBatchSize = 100000
	serverVersion     = "7.0.0"
)

// electionID is constant: the node never loses an election.
var electionID = bson.ObjectID{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1}

func (s *Server) topologyVersionLocked() bson.D {
	return bson.D{{Key: "processId", Value: s.processID}, {Key: "counter", Value: s.topoCounter}}
}

// bumpTopology increments the topology version (as a step-down would) and
// wakes every waiting streaming hello.
func (s *Server) bumpTopology() bson.D {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topoCounter++
	close(s.topoChanged)
	s.topoChanged = make(chan struct{})
	return s.topologyVersionLocked()
}

// cmdHello answers hello / isMaster. A streaming hello (topologyVersion and
// maxAwaitTimeMS given) whose topology version is current waits up to
// maxAwaitTimeMS, until the topology changes or the server closes.
func (s *Server) cmdHello(x *cmdCtx) (bson.D, error) {
	tv, err := x.optDoc("topologyVersion")
	if err != nil {
		return nil, err
	}
	maxAwait, hasAwait, err := x.optInt("maxAwaitTimeMS")
	if err != nil {
		return nil, err
	}
	if tv != nil && hasAwait {
		s.awaitTopologyChange(tv, time.Duration(maxAwait)*time.Millisecond)
	}
	s.mu.Lock()
	topo := s.topologyVersionLocked()
	ts := s.clock
	s.mu.Unlock()
	now := time.Now()
	legacy := x.name != "hello"
	d := bson.D{}
	if legacy {
		d = append(d, bson.E{Key: "ismaster", Value: true})
		if v, ok := x.get("helloOk"); ok && asBool(v) {
			d = append(d, bson.E{Key: "helloOk", Value: true})
		}
	} else {
		d = append(d, bson.E{Key: "isWritablePrimary", Value: true})
	}
	hosts := bson.A{s.hostPort}
	d = append(d,
		bson.E{Key: "topologyVersion", Value: topo},
		bson.E{Key: "hosts", Value: hosts},
		bson.E{Key: "setName", Value: replicaSetName},
		bson.E{Key: "setVersion", Value: int32(1)},
		bson.E{Key: "secondary", Value: false},
		bson.E{Key: "primary", Value: s.hostPort},
		bson.E{Key: "me", Value: s.hostPort},
		bson.E{Key: "electionId", Value: electionID},
		bson.E{Key: "lastWrite", Value: bson.D{
			{Key: "opTime", Value: bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}},
			{Key: "lastWriteDate", Value: bson.NewDateTimeFromTime(now)},
			{Key: "majorityOpTime", Value: bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}},
			{Key: "majorityWriteDate", Value: bson.NewDateTimeFromTime(now)},
		}},
		bson.E{Key: "maxBsonObjectSize", Value: int32(maxBSONObjectSize)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(maxMessageLen)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(maxWriteBatchSize)},
		bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(now)},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: x.c.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(maxWireVersion)},
		bson.E{Key: "readOnly", Value: false},
	)
	return append(d, s.handshakeAuth(x)...), nil
}

func (s *Server) awaitTopologyChange(tv bson.D, maxAwait time.Duration) {
	pid, _ := lookupKey(tv, "processId")
	cv, _ := lookupKey(tv, "counter")
	counter, _ := asInt64(cv)
	s.mu.Lock()
	current := pid == s.processID && counter == s.topoCounter
	ch := s.topoChanged
	s.mu.Unlock()
	if !current || maxAwait <= 0 {
		return
	}
	t := time.NewTimer(maxAwait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ch:
	case <-s.done:
	}
}

func (s *Server) cmdBuildInfo(*cmdCtx) (bson.D, error) {
	return bson.D{
		{Key: "version", Value: serverVersion},
		{Key: "gitVersion", Value: "mongotest"},
		{Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(0), int32(0)}},
		{Key: "bits", Value: int32(64)},
		{Key: "maxBsonObjectSize", Value: int32(maxBSONObjectSize)},
		{Key: "storageEngines", Value: bson.A{"mongotest"}},
	}, nil
}

// noteClient records the application name a handshake (hello or isMaster
// with client metadata) gives its connection.
func (s *Server) noteClient(x *cmdCtx) {
	if x.name != "hello" && x.name != "isMaster" && x.name != "ismaster" {
		return
	}
	cv, _ := x.get("client")
	cl, _ := cv.(bson.D)
	av, _ := lookupKey(cl, "application")
	app, _ := av.(bson.D)
	if nv, ok := lookupKey(app, "name"); ok {
		x.c.appName, _ = nv.(string)
	}
}

package mongotest

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// serverParameters are the parameters getParameter reports, with the values
// of a MongoDB 7.0 test deployment (test commands such as
// configureFailPoint are enabled).
func serverParameters() bson.D {
	return bson.D{
		{Key: "authenticationMechanisms", Value: bson.A{"SCRAM-SHA-1", "SCRAM-SHA-256"}},
		{Key: "enableTestCommands", Value: true},
		{Key: "featureCompatibilityVersion", Value: bson.D{{Key: "version", Value: "7.0"}}},
		{Key: "requireApiVersion", Value: false},
		{Key: "acceptApiVersion2", Value: false},
		{Key: "transactionLifetimeLimitSeconds", Value: int32(60)},
		{Key: "changeStreamOptions", Value: bson.D{{Key: "preAndPostImages", Value: bson.D{{Key: "expireAfterSeconds", Value: "off"}}}}},
	}
}

// cmdGetParameter answers {getParameter: "*"} with every parameter, and
// {getParameter: 1, name: 1, ...} with the named ones.
func (s *Server) cmdGetParameter(x *cmdCtx) (bson.D, error) {
	if x.db != "admin" {
		return nil, errf(13, "getParameter may only be run against the admin database.")
	}
	all := serverParameters()
	if v, _ := x.cmd[0].Value.(string); v == "*" {
		return all, nil
	}
	out := bson.D{}
	for _, e := range x.cmd[1:] {
		if e.Key == "$db" || e.Key == "lsid" || e.Key == "$clusterTime" || e.Key == "$readPreference" || e.Key == "comment" {
			continue
		}
		v, ok := lookupKey(all, e.Key)
		if !ok {
			return nil, errf(72, "no option found to get")
		}
		out = append(out, bson.E{Key: e.Key, Value: v})
	}
	if len(out) == 0 {
		return nil, errf(72, "no option found to get")
	}
	return out, nil
}

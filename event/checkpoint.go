package event

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Checkpoint is a stored stream position.
type Checkpoint struct {
	Token       bson.Raw
	ClusterTime bson.Timestamp
	SavedAt     time.Time
}

// TimestampString renders a cluster time as MongoDB's shell does:
// "Timestamp(T, I)".
func TimestampString(ts bson.Timestamp) string {
	return fmt.Sprintf("Timestamp(%d, %d)", ts.T, ts.I)
}

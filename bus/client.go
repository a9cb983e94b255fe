package bus

import (
	"context"
	"fmt"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
)

// EmulatorEnv names the variable that points the client at the Pub/Sub
// emulator (the client library reads it).
const EmulatorEnv = "PUBSUB_EMULATOR_HOST"

// Dial opens a Pub/Sub client for project: Application Default
// Credentials, or the emulator when PUBSUB_EMULATOR_HOST is set. It
// connects lazily: a Pub/Sub that is down shows at the first call.
func Dial(ctx context.Context, project string, opts ...option.ClientOption) (*pubsub.Client, error) {
	c, err := pubsub.NewClient(ctx, project, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub client for project %q: %w", project, err)
	}
	return c, nil
}

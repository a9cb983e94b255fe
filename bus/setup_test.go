package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
)

// Setup creates the four resources with the settings the bus relies on,
// a second run changes nothing, and a changed setting is updated in place.
func TestSetupCreatesIdempotently(t *testing.T) {
	project := pubsubtest.Project(t)
	c := pubsubtest.Client(t, project)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := pubsubtest.Bus(project)
	steps, err := bus.Setup(ctx, c, project, cfg, pubsubtest.Retry())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(steps); got != "created created created created" {
		t.Fatalf("first setup: %s (%v)", got, steps)
	}
	n := bus.NamesOf(project, cfg)
	sub, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: n.Subscription})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"ordered":                        sub.GetEnableMessageOrdering(),
		"on the topic":                   sub.GetTopic() == n.Topic,
		"dead letters to the dead topic": sub.GetDeadLetterPolicy().GetDeadLetterTopic() == n.DeadLetterTopic,
		"maxDeliveryAttempts":            sub.GetDeadLetterPolicy().GetMaxDeliveryAttempts() == 5,
		"retry backoff from retry.*":     sub.GetRetryPolicy().GetMinimumBackoff().AsDuration() == 50*time.Millisecond,
		"retention 7 days":               sub.GetMessageRetentionDuration().AsDuration() == bus.SubscriptionRetention,
		"no expiry":                      sub.GetExpirationPolicy() != nil && sub.GetExpirationPolicy().GetTtl() == nil,
		"ack deadline":                   sub.GetAckDeadlineSeconds() == 10,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("subscription: %s: not so: %v", what, sub)
		}
	}
	for _, name := range []string{n.Topic, n.DeadLetterTopic} {
		topic, err := c.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name})
		if err != nil {
			t.Fatal(err)
		}
		if topic.GetMessageRetentionDuration().AsDuration() != bus.TopicRetention {
			t.Errorf("topic %s: retention %v, want %v", name, topic.GetMessageRetentionDuration(), bus.TopicRetention)
		}
	}
	dead, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: n.DeadLetterSubscription})
	if err != nil || dead.GetTopic() != n.DeadLetterTopic || dead.GetExpirationPolicy().GetTtl() != nil {
		t.Errorf("dead-letter subscription: %v, %v", dead, err)
	}

	steps, err = bus.Setup(ctx, c, project, cfg, pubsubtest.Retry())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(steps); got != "unchanged unchanged unchanged unchanged" {
		t.Errorf("second setup: %s (%v)", got, steps)
	}
	cfg.MaxDeliveryAttempts = 7
	steps, err = bus.Setup(ctx, c, project, cfg, pubsubtest.Retry())
	if err != nil {
		t.Fatal(err)
	}
	if got := steps[2].String(); !strings.Contains(got, "updated ([dead_letter_policy])") {
		t.Errorf("after changing maxDeliveryAttempts: %s", got)
	}
}

// A subscription made by hand without ordering is not taken as the bus's:
// ordering cannot be switched on, and the error says what to do.
func TestSetupRefusesAnUnorderedSubscription(t *testing.T) {
	project := pubsubtest.Project(t)
	c := pubsubtest.Client(t, project)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := pubsubtest.Bus(project)
	n := bus.NamesOf(project, cfg)
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: n.Topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: n.Subscription, Topic: n.Topic}); err != nil {
		t.Fatal(err)
	}
	_, err := bus.Setup(ctx, c, project, cfg, pubsubtest.Retry())
	if err == nil || !strings.Contains(err.Error(), "ordering cannot be changed") {
		t.Fatalf("setup over an unordered subscription: %v", err)
	}
}

func actions(steps []bus.Step) string {
	out := make([]string, 0, len(steps))
	for _, s := range steps {
		out = append(out, s.Action)
	}
	return strings.Join(out, " ")
}

package bus

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/projectwatcher/watcher/config"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// What bus setup creates. A topic keeps its messages for the longest
// Pub/Sub allows (31 days) and so does a subscription within its own limit
// (7 days): once the checkpoint has passed an event, Pub/Sub holds its only
// copy. The ack deadline is Pub/Sub's default, 10 s: the client extends
// what a worker holds (at most 20 s at a time, for up to 2 h), so it only
// says how soon the message of a worker that died is delivered again.
const (
	TopicRetention        = 31 * 24 * time.Hour
	SubscriptionRetention = 7 * 24 * time.Hour
	AckDeadline           = 10 * time.Second
	maxRetryBackoff       = 600 * time.Second // Pub/Sub's bound of a retry policy's backoffs
)

// Names are the full resource names of the bus (bus.*): the dead-letter
// topic's subscription has the dead-letter topic's id.
type Names struct {
	Topic, Subscription, DeadLetterTopic, DeadLetterSubscription string
}

// NamesOf returns the resource names of cfg in project.
func NamesOf(project string, cfg config.Bus) Names {
	return Names{
		Topic:                  "projects/" + project + "/topics/" + cfg.Topic,
		Subscription:           "projects/" + project + "/subscriptions/" + cfg.Subscription,
		DeadLetterTopic:        "projects/" + project + "/topics/" + cfg.DeadLetterTopic,
		DeadLetterSubscription: "projects/" + project + "/subscriptions/" + cfg.DeadLetterTopic,
	}
}

// Step is one resource setup looked at, and what it did.
type Step struct {
	Resource string // full name
	Kind     string // topic | subscription
	Action   string // created | unchanged | updated
	Fields   []string
}

func (s Step) String() string {
	out := fmt.Sprintf("%s %s: %s", s.Kind, s.Resource, s.Action)
	if len(s.Fields) > 0 {
		out += fmt.Sprintf(" (%v)", s.Fields)
	}
	return out
}

// Setup creates, or brings to the configured settings, the topic, the
// dead-letter topic, the ordered subscription with its retry and
// dead-letter policies, and the dead-letter topic's subscription; no
// subscription expires. It is idempotent. A subscription that exists on
// another topic or without message ordering (neither can change) is an
// error naming the way out.
func Setup(ctx context.Context, c *pubsub.Client, project string, cfg config.Bus, retry config.Retry) ([]Step, error) {
	n := NamesOf(project, cfg)
	var steps []Step
	for _, topic := range []string{n.Topic, n.DeadLetterTopic} {
		s, err := ensureTopic(ctx, c, topic)
		if err != nil {
			return steps, err
		}
		steps = append(steps, s)
	}
	subs := []*pubsubpb.Subscription{
		subscriptionOf(n, cfg, retry),
		{Name: n.DeadLetterSubscription, Topic: n.DeadLetterTopic, AckDeadlineSeconds: int32(AckDeadline / time.Second),
			MessageRetentionDuration: durationpb.New(SubscriptionRetention), ExpirationPolicy: &pubsubpb.ExpirationPolicy{}},
	}
	for _, want := range subs {
		s, err := ensureSubscription(ctx, c, want)
		if err != nil {
			return steps, err
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// subscriptionOf is the event subscription: ordered, retried with the
// retry.* backoffs (within Pub/Sub's bounds), dead-lettered after
// bus.maxDeliveryAttempts deliveries.
func subscriptionOf(n Names, cfg config.Bus, retry config.Retry) *pubsubpb.Subscription {
	lo := min(max(retry.InitialBackoff, 0), maxRetryBackoff)
	hi := min(max(retry.MaxBackoff, lo), maxRetryBackoff)
	return &pubsubpb.Subscription{
		Name: n.Subscription, Topic: n.Topic, EnableMessageOrdering: true,
		AckDeadlineSeconds:       int32(AckDeadline / time.Second),
		MessageRetentionDuration: durationpb.New(SubscriptionRetention),
		ExpirationPolicy:         &pubsubpb.ExpirationPolicy{}, // never expires
		RetryPolicy:              &pubsubpb.RetryPolicy{MinimumBackoff: durationpb.New(lo), MaximumBackoff: durationpb.New(hi)},
		DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{DeadLetterTopic: n.DeadLetterTopic,
			MaxDeliveryAttempts: int32(cfg.MaxDeliveryAttempts)},
	}
}

func ensureTopic(ctx context.Context, c *pubsub.Client, name string) (Step, error) {
	want := &pubsubpb.Topic{Name: name, MessageRetentionDuration: durationpb.New(TopicRetention)}
	step := Step{Resource: name, Kind: "topic", Action: "created"}
	_, err := c.TopicAdminClient.CreateTopic(ctx, want)
	if err == nil {
		return step, nil
	}
	if status.Code(err) != codes.AlreadyExists {
		return step, fmt.Errorf("bus setup: create topic %s: %w", name, err)
	}
	have, err := c.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name})
	if err != nil {
		return step, fmt.Errorf("bus setup: read topic %s: %w", name, err)
	}
	step.Action = "unchanged"
	if proto.Equal(have.GetMessageRetentionDuration(), want.MessageRetentionDuration) {
		return step, nil
	}
	step.Action, step.Fields = "updated", []string{"message_retention_duration"}
	_, err = c.TopicAdminClient.UpdateTopic(ctx, &pubsubpb.UpdateTopicRequest{Topic: want,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: step.Fields}})
	if err != nil {
		return step, fmt.Errorf("bus setup: update topic %s: %w", name, err)
	}
	return step, nil
}

func ensureSubscription(ctx context.Context, c *pubsub.Client, want *pubsubpb.Subscription) (Step, error) {
	step := Step{Resource: want.Name, Kind: "subscription", Action: "created"}
	_, err := c.SubscriptionAdminClient.CreateSubscription(ctx, want)
	if err == nil {
		return step, nil
	}
	if status.Code(err) != codes.AlreadyExists {
		return step, fmt.Errorf("bus setup: create subscription %s: %w", want.Name, err)
	}
	have, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: want.Name})
	if err != nil {
		return step, fmt.Errorf("bus setup: read subscription %s: %w", want.Name, err)
	}
	if have.GetTopic() != want.Topic {
		return step, fmt.Errorf("bus setup: subscription %s exists on topic %s, not %s: a subscription cannot move; "+
			"delete it (gcloud pubsub subscriptions delete) or configure another name, then run setup again", want.Name, have.GetTopic(), want.Topic)
	}
	if have.GetEnableMessageOrdering() != want.EnableMessageOrdering {
		return step, fmt.Errorf("bus setup: subscription %s exists with message ordering %v, want %v: ordering cannot be changed; "+
			"delete it (gcloud pubsub subscriptions delete) once it is drained, then run setup again", want.Name, have.GetEnableMessageOrdering(), want.EnableMessageOrdering)
	}
	step.Action, step.Fields = "unchanged", changedFields(have, want)
	if len(step.Fields) == 0 {
		return step, nil
	}
	step.Action = "updated"
	_, err = c.SubscriptionAdminClient.UpdateSubscription(ctx, &pubsubpb.UpdateSubscriptionRequest{Subscription: want,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: step.Fields}})
	if err != nil {
		return step, fmt.Errorf("bus setup: update subscription %s (%v): %w", want.Name, step.Fields, err)
	}
	return step, nil
}

// changedFields are the update-mask paths where have differs from want.
func changedFields(have, want *pubsubpb.Subscription) []string {
	var out []string
	if have.GetAckDeadlineSeconds() != want.GetAckDeadlineSeconds() {
		out = append(out, "ack_deadline_seconds")
	}
	if !proto.Equal(have.GetMessageRetentionDuration(), want.GetMessageRetentionDuration()) {
		out = append(out, "message_retention_duration")
	}
	if have.GetExpirationPolicy().GetTtl() != nil || have.GetExpirationPolicy() == nil {
		out = append(out, "expiration_policy")
	}
	if !proto.Equal(have.GetRetryPolicy(), want.GetRetryPolicy()) {
		out = append(out, "retry_policy")
	}
	if !proto.Equal(have.GetDeadLetterPolicy(), want.GetDeadLetterPolicy()) {
		out = append(out, "dead_letter_policy")
	}
	return out
}

package config

import (
	"regexp"
	"strings"
)

// Pub/Sub's bounds of a dead-letter policy's max delivery attempts.
const (
	minDeliveryAttempts = 5
	maxDeliveryAttempts = 100
)

// pubsubName is Pub/Sub's rule for a topic or subscription id: 3 to 255
// characters, starting with a letter, of letters, digits and - _ . ~ + %.
var pubsubName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)

func (b Bus) validate(p *Problems) {
	oneOf(p, "bus.mode", b.Mode, BusOff, BusPublish)
	names := []struct{ key, value string }{
		{"bus.topic", b.Topic},
		{"bus.subscription", b.Subscription},
		{"bus.deadLetterTopic", b.DeadLetterTopic},
	}
	for _, n := range names {
		switch {
		case strings.TrimSpace(n.value) == "":
			if b.Mode != BusOff {
				p.addf("%s: empty (bus.mode is %q)", n.key, b.Mode)
			}
		case !pubsubName.MatchString(n.value) || strings.HasPrefix(strings.ToLower(n.value), "goog"):
			p.addf("%s: %q is not a Pub/Sub name (3-255 characters: a letter, then letters, digits, - _ . ~ + %%; not starting with \"goog\")", n.key, n.value)
		}
	}
	if b.Topic != "" && b.Topic == b.DeadLetterTopic {
		p.addf("bus.deadLetterTopic: %q is bus.topic; dead letters need a topic of their own", b.DeadLetterTopic)
	}
	if b.MaxDeliveryAttempts < minDeliveryAttempts || b.MaxDeliveryAttempts > maxDeliveryAttempts {
		p.addf("bus.maxDeliveryAttempts: must be from %d to %d (Pub/Sub's limits), got %d", minDeliveryAttempts, maxDeliveryAttempts, b.MaxDeliveryAttempts)
	}
}

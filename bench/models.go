package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/internal/tcpproxy"
)

// modelDirect is the model of clients talking to the emulator directly.
const modelDirect = "direct"

// modelRTT is the flag's name of the production model: every client
// (watcher, floors, baseline) reaches the emulator through a loopback
// proxy that holds each direction's bytes for a fixed one-way delay. It
// adds round-trip time and changes nothing else; the emulator's own costs
// (a query scans its whole collection) stay.
const modelRTT = "rtt"

// model is how the clients reach the emulator.
type model struct {
	name  string          // "direct" or "rtt<round trip>ms", e.g. rtt20ms
	addr  string          // what clients dial: the emulator or the proxy
	proxy *tcpproxy.Proxy // nil: direct
}

// rttName names the production model by its round trip (twice the delay).
func rttName(oneWay time.Duration) string {
	return fmt.Sprintf("rtt%dms", (2 * oneWay).Milliseconds())
}

// startModels sets up the models named in spec ("direct,rtt"); the rtt
// model gets its proxy, with delay each way.
func (e *env) startModels(spec string, delay time.Duration) error {
	for _, name := range strings.Split(spec, ",") {
		switch strings.TrimSpace(name) {
		case modelDirect:
			e.models = append(e.models, model{name: modelDirect, addr: e.emulator})
		case modelRTT:
			if delay <= 0 {
				return fmt.Errorf("model %s needs a positive -delay", modelRTT)
			}
			p, err := tcpproxy.Start(e.emulator, tcpproxy.WithDelay(delay))
			if err != nil {
				return err
			}
			e.models = append(e.models, model{name: rttName(delay), addr: p.Addr(), proxy: p})
		case "":
		default:
			return fmt.Errorf("unknown model %q (want %s or %s)", name, modelDirect, modelRTT)
		}
	}
	if len(e.models) == 0 {
		return fmt.Errorf("no model in %q", spec)
	}
	return nil
}

// direct is the model of unmeasured work (seeding, checking, dropping).
func (e *env) direct() model { return model{name: modelDirect, addr: e.emulator} }

func (e *env) closeModels() {
	for _, m := range e.models {
		if m.proxy != nil {
			m.proxy.Close()
		}
	}
}

// msDuration is ms milliseconds as a duration.
func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

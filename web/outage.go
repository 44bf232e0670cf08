package web

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// outage logs a database outage once when it starts and once when it ends, instead of once per
// failed request. A request that failed for want of the database makes it ask the database
// itself: when that fails too, the outage starts, and a probe asks every second until the
// database has answered for two seconds running. A request that only ran out of time while the
// database answers is an overloaded server, not an outage: that is said at most once a minute.
type outage struct {
	log   *slog.Logger
	ready func(context.Context) error
	mu    sync.Mutex
	state int       // idle, checking or down
	since time.Time // when the outage started
	// overloaded is when an overload was last logged.
	overloaded time.Time
	// onChange, when set, is told when an outage starts (true) and ends (false): metrics.
	onChange func(bool)
}

const (
	outageIdle = iota
	outageChecking
	outageDown
)

// down notes that a request found the database unreachable, or out of time.
func (o *outage) down(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != outageIdle {
		return
	}
	if o.ready == nil {
		o.start(err)
		return
	}
	o.state = outageChecking
	go o.check(err)
}

// check asks the database whether it answers, after a request said it did not.
func (o *outage) check(err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	perr := o.ready(ctx)
	cancel()
	o.mu.Lock()
	defer o.mu.Unlock()
	if perr == nil {
		o.state = outageIdle
		if time.Since(o.overloaded) > time.Minute {
			o.overloaded = time.Now()
			o.log.Warn("requests ran out of time while the database answers: the server is overloaded", "err", err)
		}
		return
	}
	o.start(err)
	go o.probe()
}

// start begins an outage; o.mu is held.
func (o *outage) start(err error) {
	o.state, o.since = outageDown, time.Now()
	o.log.Error("database unavailable: answering 503 until it is back", "err", err)
	if o.onChange != nil {
		o.onChange(true)
	}
}

// probe asks the database every second until it has answered twice in a row.
func (o *outage) probe() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	answered := 0
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := o.ready(ctx)
		cancel()
		if err != nil {
			answered = 0
			continue
		}
		if answered++; answered < 2 {
			continue
		}
		o.mu.Lock()
		o.log.Warn("database available again", "outage", time.Since(o.since).Round(time.Millisecond).String())
		o.state = outageIdle
		if o.onChange != nil {
			o.onChange(false)
		}
		o.mu.Unlock()
		return
	}
}

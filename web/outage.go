package web

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// outage logs a database outage once when it starts and once when it ends, instead of once per
// failed request: while it lasts, a probe asks the database every second whether it is back.
type outage struct {
	log   *slog.Logger
	ready func(context.Context) error
	mu    sync.Mutex
	since time.Time // zero when there is no outage
	// onChange, when set, is told when an outage starts (true) and ends (false): metrics.
	onChange func(bool)
}

// down notes that a request found the database unreachable.
func (o *outage) down(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.since.IsZero() {
		return
	}
	o.since = time.Now()
	o.log.Error("database unavailable: answering 503 until it is back", "err", err)
	if o.onChange != nil {
		o.onChange(true)
	}
	if o.ready == nil {
		return
	}
	go o.probe()
}

func (o *outage) probe() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := o.ready(ctx)
		cancel()
		if err == nil {
			o.mu.Lock()
			o.log.Warn("database available again", "outage", time.Since(o.since).Round(time.Millisecond).String())
			o.since = time.Time{}
			if o.onChange != nil {
				o.onChange(false)
			}
			o.mu.Unlock()
			return
		}
	}
}

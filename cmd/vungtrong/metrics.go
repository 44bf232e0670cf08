package main

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	poolConnsDesc = prometheus.NewDesc("vungtrong_db_pool_conns", "Connections of a database pool, by state (acquired, idle, constructing).",
		[]string{"pool", "state"}, nil)
	poolMaxDesc      = prometheus.NewDesc("vungtrong_db_pool_max_conns", "Most connections a database pool opens.", []string{"pool"}, nil)
	poolAcquireDesc  = prometheus.NewDesc("vungtrong_db_pool_acquires_total", "Connections taken from a pool.", []string{"pool"}, nil)
	poolWaitDesc     = prometheus.NewDesc("vungtrong_db_pool_acquire_wait_seconds_total", "Time spent waiting for a pool's connections.", []string{"pool"}, nil)
	poolEmptyDesc    = prometheus.NewDesc("vungtrong_db_pool_empty_acquires_total", "Takes that had to wait or connect: the pool had no idle connection.", []string{"pool"}, nil)
	poolCanceledDesc = prometheus.NewDesc("vungtrong_db_pool_canceled_acquires_total", "Takes given up (the request's deadline, or its client gone).", []string{"pool"}, nil)
)

// poolCollector reports the state of database pools by name ("primary", "read", "tiles"...):
// connections in use and idle, and how long requests waited for one.
type poolCollector map[string]*pgxpool.Pool

// Describe implements prometheus.Collector.
func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnsDesc, poolMaxDesc, poolAcquireDesc, poolWaitDesc, poolEmptyDesc, poolCanceledDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (pc poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, p := range pc {
		if p == nil {
			continue
		}
		st := p.Stat()
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.AcquiredConns()), name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.IdleConns()), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.ConstructingConns()), name, "constructing")
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(poolAcquireDesc, prometheus.CounterValue, float64(st.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, st.AcquireDuration().Seconds(), name)
		ch <- prometheus.MustNewConstMetric(poolEmptyDesc, prometheus.CounterValue, float64(st.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolCanceledDesc, prometheus.CounterValue, float64(st.CanceledAcquireCount()), name)
	}
}

package metrics

import "github.com/prometheus/client_golang/prometheus"

// HashStats are a password hasher's figures: what password.Hasher's Stats
// reports (its slots, the hashes running and the callers queued now, and
// how many callers had to wait, or were refused, since start).
type HashStats struct {
	Slots, InFlight, Waiting, Waited, Refused int64
}

// WatchHashes registers a collector that reads stats at scrape time.
// Nil-safe.
func (m *Metrics) WatchHashes(stats func() HashStats) {
	if m == nil || stats == nil {
		return
	}
	m.reg.MustRegister(&hashCollector{stats: stats,
		slots:    prometheus.NewDesc("sesame_password_hash_slots", "Password hashes (argon2id) that may run at once.", nil, nil),
		inFlight: prometheus.NewDesc("sesame_password_hashes_in_flight", "Password hashes running now.", nil, nil),
		waiting:  prometheus.NewDesc("sesame_password_hash_waiting", "Requests queued for a hash slot now.", nil, nil),
		waited:   prometheus.NewDesc("sesame_password_hash_waits_total", "Requests that queued for a hash slot before getting one.", nil, nil),
		refused:  prometheus.NewDesc("sesame_password_hash_refused_total", "Requests refused because no hash slot came free in time or the queue was full.", nil, nil),
	})
}

type hashCollector struct {
	stats                                     func() HashStats
	slots, inFlight, waiting, waited, refused *prometheus.Desc
}

func (c *hashCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.slots
	ch <- c.inFlight
	ch <- c.waiting
	ch <- c.waited
	ch <- c.refused
}

func (c *hashCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.slots, prometheus.GaugeValue, float64(s.Slots))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(s.Waiting))
	ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, float64(s.Waited))
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.Refused))
}

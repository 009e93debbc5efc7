package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sesame/internal/store"
)

// jobsScan bounds how many jobs of one state the collector reads to break
// them down by kind: the per-state totals are exact, the per-kind ones
// cover the oldest jobsScan of each state.
const jobsScan = 5000

// jobsCollector reads the job queue at scrape time: one CountJobs, and one
// bounded ListJobs per state that is not done.
type jobsCollector struct {
	st       store.Jobs
	now      func() time.Time
	total    *prometheus.Desc
	byKind   *prometheus.Desc
	oldest   *prometheus.Desc
	scrapeOK *prometheus.Desc
}

// WatchJobs registers a collector of the jobs in st. Nil-safe.
func (m *Metrics) WatchJobs(st store.Jobs) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&jobsCollector{
		st:       st,
		now:      time.Now,
		total:    prometheus.NewDesc("sesame_jobs", "Jobs in the queue by state (exact).", []string{"state"}, nil),
		byKind:   prometheus.NewDesc("sesame_jobs_by_kind", "Jobs not done by kind and state (the oldest 5000 of each state).", []string{"kind", "state"}, nil),
		oldest:   prometheus.NewDesc("sesame_jobs_oldest_age_seconds", "Age of the oldest job in each state that is not done: for pending jobs, how long the oldest due one has waited past its time.", []string{"state"}, nil),
		scrapeOK: prometheus.NewDesc("sesame_jobs_scrape_success", "1 when the store answered the jobs collector, 0 otherwise.", nil, nil),
	})
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.byKind
	ch <- c.oldest
	ch <- c.scrapeOK
}

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok := 1.0
	defer func() { ch <- prometheus.MustNewConstMetric(c.scrapeOK, prometheus.GaugeValue, ok) }()
	counts, err := c.st.CountJobs(ctx)
	if err != nil {
		ok = 0
		return
	}
	for _, s := range []store.JobState{store.JobPending, store.JobRunning, store.JobDone, store.JobDead} {
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
	now := c.now()
	for _, s := range []store.JobState{store.JobPending, store.JobRunning, store.JobDead} {
		list, err := c.st.ListJobs(ctx, store.JobFilter{State: s, Limit: jobsScan})
		if err != nil {
			ok = 0
			return
		}
		kinds := map[string]int{}
		var age time.Duration
		for _, j := range list {
			kinds[j.Kind]++
			var a time.Duration
			switch s {
			case store.JobPending:
				a = now.Sub(j.RunAfter) // overdue; negative for a job not due yet
			default:
				a = now.Sub(j.CreatedAt)
			}
			age = max(age, a)
		}
		for k, n := range kinds {
			ch <- prometheus.MustNewConstMetric(c.byKind, prometheus.GaugeValue, float64(n), k, string(s))
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age.Seconds(), string(s))
	}
}

// Package metrics exposes Patchloop to monitoring: Prometheus metrics at
// /metrics, derived from the run history at each scrape (so every process
// sharing a database reports the same figures), error counters of the HTTP
// transports to registries and APT mirrors, and the readiness check at
// /readyz.
package metrics

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/patchloop/patchloop/internal/vulndb"
	"github.com/patchloop/patchloop/internal/workflow"
)

// DurationBuckets are the run duration histogram's buckets, in seconds:
// from a cached rescan (well under a second) to a long patch.
var DurationBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// Metrics holds Patchloop's Prometheus registry.
type Metrics struct {
	reg       *prometheus.Registry
	transport *prometheus.CounterVec
	log       *slog.Logger
}

// New returns the process and transport metrics; Observe adds the
// service's.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log}
	m.transport = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "patchloop_http_errors_total",
		Help: "Failed requests (network errors, 429 and 5xx responses, before retries) to registries and APT mirrors, by kind and host.",
	}, []string{"kind", "host"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.transport,
	)
	return m
}

// Observe adds the metrics of the service svc, whose vulnerability
// database lives in vulnDBDir: they are read from svc at every scrape.
// Call it once.
func (m *Metrics) Observe(svc workflow.Service, vulnDBDir string) {
	m.reg.MustRegister(&runCollector{svc: svc, dbDir: vulnDBDir, log: m.log, now: time.Now})
}

// Registry returns the Prometheus registry, for tests and embedding.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format to clients that
// present token as a bearer token (Prometheus: authorization.credentials_file).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="patchloop"`)
			http.Error(w, "missing or wrong API token: send \"Authorization: Bearer <token>\"", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Transport wraps next, counting its failed requests by host under kind
// ("registry" or "mirror"): network errors, 429 and 5xx responses. Put it
// under any retry layer so each attempt counts.
func (m *Metrics) Transport(kind string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &countingTransport{next: next, kind: kind, errs: m.transport}
}

type countingTransport struct {
	next http.RoundTripper
	kind string
	errs *prometheus.CounterVec
}

// RoundTrip implements http.RoundTripper.
func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	var plainHTTP tls.RecordHeaderError
	switch {
	case err != nil && r.URL.Path == "/v2/" && errors.As(err, &plainHTTP):
		// A registry ping over HTTPS to a plain-HTTP registry (loopback,
		// --insecure): the client tries again over HTTP.
	case err != nil && !errors.Is(err, context.Canceled):
		t.errs.WithLabelValues(t.kind, r.URL.Host).Inc()
	case err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500):
		t.errs.WithLabelValues(t.kind, r.URL.Host).Inc()
	}
	return resp, err
}

// Unwrap returns the wrapped transport.
func (t *countingTransport) Unwrap() http.RoundTripper { return t.next }

// runCollector derives the run metrics from the service's run history.
type runCollector struct {
	svc   workflow.Service
	dbDir string
	log   *slog.Logger
	now   func() time.Time
}

var (
	descRuns = prometheus.NewDesc("patchloop_runs",
		"Task runs in the history, by registry, task and status.", []string{"registry", "task", "status"}, nil)
	descDuration = prometheus.NewDesc("patchloop_run_duration_seconds",
		"Duration of finished task runs, from start to finish.", []string{"task"}, nil)
	descScanned = prometheus.NewDesc("patchloop_images_scanned_total",
		"Image scans that succeeded.", []string{"registry"}, nil)
	descPatched = prometheus.NewDesc("patchloop_images_patched_total",
		"Patched images pushed.", []string{"registry"}, nil)
	descFixed = prometheus.NewDesc("patchloop_cves_fixed_total",
		"Vulnerabilities fixed by the pushed patched images.", []string{"registry"}, nil)
	descQueue = prometheus.NewDesc("patchloop_queue_depth",
		"Task runs queued and not yet started, by task.", []string{"task"}, nil)
	descWorkflows = prometheus.NewDesc("patchloop_workflows",
		"Workflows stored.", nil, nil)
	descDBAge = prometheus.NewDesc("patchloop_vulndb_age_seconds",
		"Age of the vulnerability database (since it was built); absent when there is none.", nil, nil)
	descDBPresent = prometheus.NewDesc("patchloop_vulndb_present",
		"1 when the vulnerability database is installed, else 0.", nil, nil)
	descUp = prometheus.NewDesc("patchloop_database_up",
		"1 when the run history could be read at this scrape, else 0.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *runCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descDuration, descScanned, descPatched, descFixed, descQueue, descWorkflows, descDBAge, descDBPresent, descUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *runCollector) Collect(ch chan<- prometheus.Metric) {
	c.collectVulnDB(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wfs, err := c.svc.Workflows(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "metrics: list workflows", "err", err)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descWorkflows, prometheus.GaugeValue, float64(len(wfs)))
	tasks := []string{workflow.TaskTrigger, workflow.TaskScan, workflow.TaskPatch}
	durations := map[string]*histogram{}
	queued := map[string]int{}
	for _, t := range tasks {
		durations[t], queued[t] = newHistogram(), 0
	}
	seen := map[string]bool{}
	for _, wf := range wfs {
		if seen[wf.Registry] {
			continue
		}
		seen[wf.Registry] = true
		runs, err := c.svc.Runs(ctx, workflow.RunFilter{Registry: wf.Registry})
		if err != nil {
			c.log.WarnContext(ctx, "metrics: list runs", "registry", wf.Registry, "err", err)
			ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
			return
		}
		byStatus := map[[2]string]int{}
		scanned, patched, fixed := 0, 0, 0
		for _, r := range runs {
			byStatus[[2]string{r.Task, string(r.Status)}]++
			if r.Status == workflow.StatusQueued {
				queued[r.Task]++
			}
			if h := durations[r.Task]; h != nil && r.StartedAt != nil && r.FinishedAt != nil {
				h.observe(r.FinishedAt.Sub(*r.StartedAt).Seconds())
			}
			switch {
			case r.Task == workflow.TaskScan && r.Status == workflow.StatusSucceeded:
				scanned++
			case r.Task == workflow.TaskPatch && r.Status == workflow.StatusSucceeded && r.Result.PatchedImage != "":
				patched++
				fixed += r.Result.Fixable
			}
		}
		for k, n := range byStatus {
			ch <- prometheus.MustNewConstMetric(descRuns, prometheus.GaugeValue, float64(n), wf.Registry, k[0], k[1])
		}
		ch <- prometheus.MustNewConstMetric(descScanned, prometheus.CounterValue, float64(scanned), wf.Registry)
		ch <- prometheus.MustNewConstMetric(descPatched, prometheus.CounterValue, float64(patched), wf.Registry)
		ch <- prometheus.MustNewConstMetric(descFixed, prometheus.CounterValue, float64(fixed), wf.Registry)
	}
	for _, t := range tasks {
		h := durations[t]
		ch <- prometheus.MustNewConstHistogram(descDuration, h.count, h.sum, h.buckets, t)
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(queued[t]), t)
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
}

func (c *runCollector) collectVulnDB(ch chan<- prometheus.Metric) {
	meta, err := vulndb.ReadMetadata(c.dbDir)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descDBPresent, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descDBPresent, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descDBAge, prometheus.GaugeValue, c.now().Sub(meta.UpdatedAt).Seconds())
}

// histogram accumulates a constant histogram.
type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

func newHistogram() *histogram {
	h := &histogram{buckets: make(map[float64]uint64, len(DurationBuckets))}
	for _, b := range DurationBuckets {
		h.buckets[b] = 0
	}
	return h
}

func (h *histogram) observe(v float64) {
	h.count++
	h.sum += v
	for _, b := range DurationBuckets {
		if v <= b {
			h.buckets[b]++
		}
	}
}

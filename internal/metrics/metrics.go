// Package metrics defines the Prometheus metrics of the gateway. They are
// created once per process and outlive config reloads, so a reload never
// resets counters or registers a metric twice.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every gateway metric.
type Metrics struct {
	Registry *prometheus.Registry

	Requests        *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	InFlight        prometheus.Gauge
	Rejected        *prometheus.CounterVec

	UpstreamRequests *prometheus.CounterVec
	UpstreamErrors   *prometheus.CounterVec
	UpstreamHealthy  *prometheus.GaugeVec
	UpstreamRetries  *prometheus.CounterVec

	EventsWritten    prometheus.Counter
	EventsDropped    prometheus.Counter
	EventSinkErrors  *prometheus.CounterVec
	EventQueueLength prometheus.GaugeFunc

	Reloads        *prometheus.CounterVec
	ReloadDuration prometheus.Histogram
	ConfigInfo     *prometheus.GaugeVec

	RateLimitBackendUp prometheus.Gauge
	RateLimitFallbacks prometheus.Counter
	AuditChanges       *prometheus.CounterVec
}

// New creates and registers the metrics. queueLen reports the event queue
// length when scraped; it may be nil.
func New(queueLen func() float64) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{Registry: reg}
	f := factory{reg}

	m.Requests = f.counterVec("warden_requests_total",
		"Requests handled, by route, method, status class and decision.",
		"route", "method", "status_class", "decision")
	m.RequestDuration = f.histogramVec("warden_request_duration_seconds",
		"Time from request headers to the end of the response, by route.",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		"route")
	m.InFlight = f.gauge("warden_requests_in_flight", "Requests being served.")
	m.Rejected = f.counterVec("warden_requests_rejected_total",
		"Requests denied by a stage, by route, stage and reason.", "route", "stage", "reason")

	m.UpstreamRequests = f.counterVec("warden_upstream_requests_total",
		"Requests sent to upstream targets, by upstream and status class.", "upstream", "status_class")
	m.UpstreamErrors = f.counterVec("warden_upstream_errors_total",
		"Failed upstream attempts, by upstream and kind (connect, timeout, reset, unavailable, protocol).",
		"upstream", "kind")
	m.UpstreamHealthy = f.gaugeVec("warden_upstream_target_healthy",
		"1 when an upstream target is in use, 0 when it is ejected.", "upstream", "target")
	m.UpstreamRetries = f.counterVec("warden_upstream_retries_total", "Retried upstream attempts.", "upstream")

	m.EventsWritten = f.counter("warden_events_written_total", "Security events written to the sinks.")
	m.EventsDropped = f.counter("warden_events_dropped_total", "Security events dropped because the queue was full.")
	m.EventSinkErrors = f.counterVec("warden_event_sink_errors_total", "Errors writing to an event sink.", "sink")
	if queueLen == nil {
		queueLen = func() float64 { return 0 }
	}
	m.EventQueueLength = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "warden_event_queue_length", Help: "Security events waiting in the queue.",
	}, queueLen)
	reg.MustRegister(m.EventQueueLength)

	m.Reloads = f.counterVec("warden_config_reloads_total", "Config reloads, by result (success, failure).", "result")
	m.ReloadDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "warden_config_reload_duration_seconds", Help: "Time to build and swap a new pipeline.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
	})
	reg.MustRegister(m.ReloadDuration)
	m.ConfigInfo = f.gaugeVec("warden_config_info", "1 for the config currently in use, labelled by its SHA-256.", "sha256")

	m.RateLimitBackendUp = f.gauge("warden_ratelimit_backend_up", "1 when the rate-limit backend is usable (always for memory), 0 while Redis is unreachable and the fail mode applies.")
	m.RateLimitFallbacks = f.counter("warden_ratelimit_fallback_checks_total", "Rate-limit checks answered by the fail mode because the shared backend was unreachable.")
	m.AuditChanges = f.counterVec("warden_admin_changes_total", "Changes made through the admin API or CLI, by action.", "action")

	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// StatusClass returns "2xx" for 200 to 299 and so on.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(route, method string, status int, decision string, d time.Duration) {
	if route == "" {
		route = "none"
	}
	m.Requests.WithLabelValues(route, normalizeMethod(method), StatusClass(status), decision).Inc()
	m.RequestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// normalizeMethod bounds label cardinality: unknown methods from clients
// become "other".
func normalizeMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT":
		return m
	}
	return "other"
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// EventObserver adapts the metrics to event.Observer.
type EventObserver struct{ M *Metrics }

// EventDropped counts a dropped event.
func (o EventObserver) EventDropped() { o.M.EventsDropped.Inc() }

// EventWritten counts a written event.
func (o EventObserver) EventWritten() { o.M.EventsWritten.Inc() }

// SinkError counts a sink error.
func (o EventObserver) SinkError(sink string) { o.M.EventSinkErrors.WithLabelValues(sink).Inc() }

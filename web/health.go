package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Pinger is what the readiness check needs of the store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// DefaultReadyTimeout bounds the store ping of /readyz.
const DefaultReadyTimeout = 2 * time.Second

// Health serves the health endpoints: /healthz answers 200 while the process
// is up, /readyz answers 200 when the store answers a ping within Timeout and
// 503 otherwise (the reason is logged, not shown).
type Health struct {
	Store   Pinger
	Logger  *slog.Logger  // nil means slog.Default()
	Timeout time.Duration // zero means DefaultReadyTimeout
}

// Mount registers /healthz and /readyz on mux.
func (h *Health) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
}

func (h *Health) healthz(w http.ResponseWriter, _ *http.Request) {
	writeHealth(w, http.StatusOK, "ok\n")
}

func (h *Health) readyz(w http.ResponseWriter, r *http.Request) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		logger := h.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.WarnContext(r.Context(), "readiness check failed: the store does not answer", "err", err)
		writeHealth(w, http.StatusServiceUnavailable, "store unavailable\n")
		return
	}
	writeHealth(w, http.StatusOK, "ready\n")
}

func writeHealth(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

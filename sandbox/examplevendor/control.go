package examplevendor

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// routeControl adds the control API: how a demo or a test outside the
// process arms faults, reads what the platform sent and inspects the
// vendor's state. Errors use the same task envelope as the vendor
// endpoints, so clients need one error shape.
func (v *Vendor) routeControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, v.Faults())
	})
	mux.HandleFunc("POST /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if !readControlJSON(w, r, &f) {
			return
		}
		if err := v.SetFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, taskEnvelope(err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, f.normalized())
	})
	mux.HandleFunc("DELETE /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		if ep := r.URL.Query().Get("endpoint"); ep != "" {
			v.ClearFault(ep)
		} else {
			v.ClearFaults()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, v.Requests())
	})
	mux.HandleFunc("DELETE /_control/requests", func(w http.ResponseWriter, r *http.Request) {
		v.ClearRequests()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, v.Subscriptions())
	})
	mux.HandleFunc("GET /_control/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, s := range v.Subscriptions() {
			if s.ID == r.PathValue("id") {
				writeJSON(w, http.StatusOK, s)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, taskEnvelope("subscription "+r.PathValue("id")+" not found"))
	})
	mux.HandleFunc("PUT /_control/subscriptions/{id}/usage", func(w http.ResponseWriter, r *http.Request) {
		var usage map[string]int64
		if !readControlJSON(w, r, &usage) {
			return
		}
		s, err := v.SetUsage(r.PathValue("id"), usage)
		if err != nil {
			writeJSON(w, http.StatusNotFound, taskEnvelope(err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("GET /_control/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, v.Users())
	})
	mux.HandleFunc("POST /_control/reset", func(w http.ResponseWriter, r *http.Request) {
		v.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
}

// readControlJSON decodes a control body strictly; on failure it answers
// 400 and reports false.
func readControlJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		writeJSON(w, http.StatusBadRequest, taskEnvelope("body: "+err.Error()))
		return false
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, taskEnvelope("body: more than one JSON value"))
		return false
	}
	return true
}

// LogRequests logs one line per request with what a person watching a
// demo needs: method, path, query, status and duration.
func LogRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("query", r.URL.RawQuery),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

// statusWriter remembers the status; 0 means nothing was written (the
// caller went away during a delay).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/patchloop/patchloop/internal/api"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, api.CodeRouteNotFound, fmt.Sprintf("no API route %s %s", r.Method, r.URL.Path))
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	wfs, err := s.svc.Workflows(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wfs == nil {
		wfs = []api.Workflow{}
	}
	writeJSON(w, http.StatusOK, wfs)
}

func (s *Server) createWorkflow(w http.ResponseWriter, r *http.Request) {
	var req api.CreateRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	wf, err := s.svc.Create(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wf)
}

func (s *Server) updateWorkflow(w http.ResponseWriter, r *http.Request) {
	var req api.UpdateRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	// The path names the workflow; the body cannot point elsewhere.
	req.Registry, req.Type = r.PathValue("registry"), r.PathValue("type")
	wf, err := s.svc.Update(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wf)
}

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request) {
	wf, err := s.svc.Get(r.Context(), r.PathValue("registry"), r.PathValue("type"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wf)
}

func (s *Server) deleteWorkflow(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.Delete(r.Context(), r.PathValue("registry"), r.PathValue("type"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	if typ := r.PathValue("type"); typ != api.TypeContinuousPatchV1 {
		s.fail(w, r, fmt.Errorf("workflow type %q: the only type is %s: %w", typ, api.TypeContinuousPatchV1, api.ErrInvalidInput))
		return
	}
	images, err := s.svc.Images(r.Context(), r.PathValue("registry"), r.URL.Query().Get("status"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if images == nil {
		images = []api.ImageStatus{}
	}
	writeJSON(w, http.StatusOK, images)
}

func (s *Server) cancelRuns(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.CancelRuns(r.Context(), r.PathValue("registry"), r.PathValue("type"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.CancelResponse{Canceled: n})
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := api.RunFilter{Registry: q.Get("registry"), Task: q.Get("task"), Status: api.RunStatus(q.Get("status"))}
	if top := q.Get("top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 0 {
			s.fail(w, r, fmt.Errorf("top %q: want a whole number of runs, 0 or more: %w", top, api.ErrInvalidInput))
			return
		}
		f.Top = n
	}
	runs, err := s.svc.Runs(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if runs == nil {
		runs = []api.Run{}
	}
	writeJSON(w, http.StatusOK, runs)
}

func (s *Server) runLog(w http.ResponseWriter, r *http.Request) {
	log, err := s.svc.RunLog(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A write error can only mean the client left.
	_, _ = io.WriteString(w, log)
}

// decode reads a JSON request body of at most MaxRequestBytes into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("request body: %v: %w", err, api.ErrInvalidInput)
	}
	// One JSON value and nothing after it but white space.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("request body: trailing data after the JSON value at byte %d: send one JSON object: %w", dec.InputOffset(), api.ErrInvalidInput)
	}
	return nil
}

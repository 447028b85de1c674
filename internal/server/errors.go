package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/patchloop/patchloop/internal/workflow"
)

// Error codes of an ErrorResponse. The client maps each back to the
// workflow package's sentinel error, so errors.Is works across HTTP.
const (
	CodeNotFound      = "not_found"       // workflow.ErrNotFound
	CodeRunNotFound   = "run_not_found"   // workflow.ErrRunNotFound
	CodeExists        = "exists"          // workflow.ErrExists
	CodeInvalidInput  = "invalid_input"   // workflow.ErrInvalidInput
	CodeTooManyImages = "too_many_images" // workflow.ErrTooManyImages
	CodeTooLarge      = "too_large"       // request body over MaxRequestBytes
	CodeUnauthorized  = "unauthorized"    // missing or wrong token
	CodeInternal      = "internal"        // anything else
)

// ErrorResponse is the body of every response with a 4xx or 5xx status.
type ErrorResponse struct {
	// Error is a message for people; for invalid input it keeps the
	// file:line:col of every problem.
	Error string `json:"error"`
	// Code is one of the Code constants, for programs.
	Code string `json:"code"`
}

// codes maps the service's sentinel errors to HTTP status and code; the
// first match wins.
var codes = []struct {
	err    error
	status int
	code   string
}{
	{workflow.ErrRunNotFound, http.StatusNotFound, CodeRunNotFound},
	{workflow.ErrNotFound, http.StatusNotFound, CodeNotFound},
	{workflow.ErrExists, http.StatusConflict, CodeExists},
	{workflow.ErrTooManyImages, http.StatusBadRequest, CodeTooManyImages},
	{workflow.ErrInvalidInput, http.StatusBadRequest, CodeInvalidInput},
}

// Sentinel returns the workflow error a code stands for, or nil.
func Sentinel(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	if code == CodeTooLarge {
		return workflow.ErrInvalidInput
	}
	return nil
}

// fail answers with the status and code err maps to. Errors the caller did
// not cause are logged with the request that met them.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			writeError(w, c.status, c.code, err.Error())
			return
		}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge,
			"request body larger than the API accepts: a config file may be at most 10 MiB")
		return
	}
	s.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorResponse{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is out: a write error can only mean the client left.
	_ = json.NewEncoder(w).Encode(v)
}

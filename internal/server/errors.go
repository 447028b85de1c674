package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/patchloop/patchloop/internal/api"
)

// statuses maps the API's codes to HTTP statuses.
var statuses = map[string]int{
	api.CodeRunNotFound:   http.StatusNotFound,
	api.CodeNotFound:      http.StatusNotFound,
	api.CodeExists:        http.StatusConflict,
	api.CodeTooManyImages: http.StatusBadRequest,
	api.CodeInvalidInput:  http.StatusBadRequest,
}

// fail answers with the status and code err maps to. Errors the caller did
// not cause are logged with the request that met them.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if code, _ := api.Code(err); code != "" {
		writeError(w, statuses[code], code, err.Error())
		return
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge,
			"request body larger than the API accepts: a config file may be at most 10 MiB")
		return
	}
	s.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorResponse{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is out: a write error can only mean the client left.
	_ = json.NewEncoder(w).Encode(v)
}

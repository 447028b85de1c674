package server

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/patchloop/patchloop/internal/api"
)

// authenticate lets a request through only with the bearer token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), s.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="patchloop"`)
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized,
				"missing or wrong API token: send the token of the Patchloop service as \"Authorization: Bearer <token>\"")
			return
		}
		next.ServeHTTP(w, r)
	})
}

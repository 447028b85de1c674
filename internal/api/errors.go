package api

import "errors"

// Errors callers check with errors.Is; the service wraps them, the API
// sends them as an ErrorResponse code and the client unwraps to them.
var (
	ErrNotFound      = errors.New("workflow not found")
	ErrExists        = errors.New("workflow already exists")
	ErrRunNotFound   = errors.New("run not found")
	ErrInvalidInput  = errors.New("invalid input")
	ErrTooManyImages = errors.New("config selects more images than --max-images")
)

// Error codes of an ErrorResponse. The client maps each back to a sentinel
// error (Sentinel), so errors.Is works across HTTP.
const (
	CodeNotFound      = "not_found"       // ErrNotFound
	CodeRunNotFound   = "run_not_found"   // ErrRunNotFound
	CodeExists        = "exists"          // ErrExists
	CodeInvalidInput  = "invalid_input"   // ErrInvalidInput
	CodeTooManyImages = "too_many_images" // ErrTooManyImages
	CodeTooLarge      = "too_large"       // request body larger than the API accepts
	CodeUnauthorized  = "unauthorized"    // missing or wrong token
	CodeRouteNotFound = "route_not_found" // no such route
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

// sentinels pairs each sentinel error with its code; when an error wraps
// several, the first match wins.
var sentinels = []struct {
	err  error
	code string
}{
	{ErrRunNotFound, CodeRunNotFound},
	{ErrNotFound, CodeNotFound},
	{ErrExists, CodeExists},
	{ErrTooManyImages, CodeTooManyImages},
	{ErrInvalidInput, CodeInvalidInput},
}

// Code returns the code of the first sentinel error err wraps, and that
// sentinel; "" and nil when it wraps none.
func Code(err error) (string, error) {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.code, s.err
		}
	}
	return "", nil
}

// Sentinel returns the sentinel error a code stands for, or nil.
func Sentinel(code string) error {
	for _, s := range sentinels {
		if s.code == code {
			return s.err
		}
	}
	if code == CodeTooLarge {
		return ErrInvalidInput
	}
	return nil
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/patchloop/patchloop/internal/api"
)

// Errors of the connection to the service, checked with errors.Is. Errors
// the service reports wrap the workflow package's sentinels instead
// (api.ErrNotFound and the others), through an *APIError.
var (
	// ErrUnauthorized means the service rejected the API token.
	ErrUnauthorized = errors.New("the Patchloop service rejected the API token")
	// ErrUnreachable means no service answered at the address.
	ErrUnreachable = errors.New("cannot reach the Patchloop service")
)

// APIError is an error response of the service.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the service's error code (api.Code…).
	Code string
	// Message is the service's message, shown as is.
	Message string

	sentinel error
}

// Error returns the service's message.
func (e *APIError) Error() string { return e.Message }

// Unwrap returns the sentinel error the code stands for, so that for
// example errors.Is(err, api.ErrNotFound) holds.
func (e *APIError) Unwrap() error { return e.sentinel }

func responseError(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return fmt.Errorf("the Patchloop service answered %s and the body could not be read: %w", resp.Status, err)
	}
	e := &APIError{StatusCode: resp.StatusCode}
	var body api.ErrorResponse
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Code, e.Message = body.Code, body.Error
	} else {
		e.Message = fmt.Sprintf("the Patchloop service answered %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	e.sentinel = api.Sentinel(e.Code)
	if resp.StatusCode == http.StatusUnauthorized {
		e.sentinel = ErrUnauthorized
		e.Message = fmt.Sprintf("%v (HTTP 401): set %s to the service's token, or --data-dir to the service's data directory (its token file)", ErrUnauthorized, EnvToken)
	}
	return e
}

// transportError explains a request that got no response.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("call the Patchloop service at %s: %w", c.base, ctxErr)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w at %s: start it with `patchloop serve`, or point %s at it (%v)", ErrUnreachable, c.base, EnvServer, op.Err)
	}
	return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.base, err)
}

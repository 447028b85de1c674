package workflow

import (
	"crypto/rand"
	"encoding/hex"
)

// runIDAlphabet is what run IDs are made of.
const runIDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newRunID returns a short random run ID such as "k3x9a0qd".
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	for i := range b {
		b[i] = runIDAlphabet[int(b[i])%len(runIDAlphabet)]
	}
	return string(b[:])
}

// newWorkflowID returns a random workflow ID of 16 hex digits.
func newWorkflowID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

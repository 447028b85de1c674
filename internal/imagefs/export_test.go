package imagefs

// ClientChecked exposes clientChecked to the tests.
var ClientChecked = clientChecked

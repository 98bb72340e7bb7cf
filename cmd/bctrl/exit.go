package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// Exit codes, listed in the root command's help. Scripts rely on them: keep
// the numbers stable.
const (
	exitOK          = 0   // success; for wait, the invocation succeeded
	exitFailed      = 1   // wait: the invocation ended failed, cancelled or timed_out
	exitUsage       = 2   // bad flags or arguments, missing id, no API key, bad base URL
	exitNotFound    = 3   // the invocation does not exist: a 404 with the API's invocation.not_found code
	exitAuth        = 4   // 401 or 403: the API key is missing, wrong or not allowed
	exitAPI         = 5   // any other API or network error, after retries; a 404 without invocation.not_found
	exitTimeout     = 6   // --timeout passed: wait, before the invocation ended; get, before an answer
	exitOutput      = 7   // stdout could not be written; replaces 0 and 1, whose output is the point
	exitInterrupted = 130 // SIGINT or SIGTERM before the command finished
)

// exitCodeHelp is the exit code table shown by "bctrl --help".
const exitCodeHelp = `Exit codes:
  0    success (wait: the invocation succeeded)
  1    wait: the invocation ended failed, cancelled or timed_out
  2    usage or configuration error: bad flags, missing or blank id, no API
       key, a plain http base URL without --insecure-http
  3    invocation not found (a 404 with the API's invocation.not_found code)
  4    authentication or permission error (401, 403)
  5    any other API or network error, after retries; also a 404 without
       that code, which means --base-url points somewhere else
  6    --timeout reached (wait: before the invocation ended; get: before the
       API answered)
  7    stdout could not be written (a full disk, a closed file); it replaces
       0 and 1, whose output is the point
  130  interrupted (SIGINT or SIGTERM)`

// usageError is a mistake on the command line or in the configuration:
// exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// timeoutError is a get that ran past its --timeout: exit code 6, like a
// wait's. err is the client's error, which tells the last failure when
// the request was being retried.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("get timed out after %v (--timeout): %s", e.after, strings.TrimPrefix(e.err.Error(), "bctrl: "))
}
func (e *timeoutError) Unwrap() error { return e.err }

// exitCode maps the error a command returned to its exit code. ctx is the
// command's context: once it is cancelled (a signal), any error means the
// command was interrupted.
func exitCode(ctx context.Context, err error) int {
	var (
		usage   *usageError
		ended   *client.InvocationError
		timeout *timeoutError
	)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &usage), errors.Is(err, client.ErrInvalidID):
		return exitUsage
	case errors.As(err, &ended):
		return exitFailed
	case errors.Is(err, client.ErrWaitTimeout), errors.As(err, &timeout):
		return exitTimeout
	case errors.Is(err, client.ErrNotFound) && !wrongEndpoint(err):
		return exitNotFound
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden):
		return exitAuth
	}
	return exitAPI
}

// invocationNotFound is the error code of the API's 404 for an invocation
// that does not exist.
const invocationNotFound = "invocation.not_found"

// wrongEndpoint reports whether err is a 404 without the API's
// invocation-not-found code: whatever answered is not the invocations API
// (a --base-url with a wrong path, a proxy, another service), so "not
// found" says nothing about the invocation.
func wrongEndpoint(err error) bool {
	var apiErr *client.APIError
	return errors.Is(err, client.ErrNotFound) && (!errors.As(err, &apiErr) || apiErr.Code != invocationNotFound)
}

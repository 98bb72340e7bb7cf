package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client"
)

// How a failure is reported: a message for people on stderr; with -o
// json, one JSON object on stderr instead, for scripts, while stdout holds
// only what the command read (wait: the invocation, whenever one was
// observed).

// jsonOutputHelp documents the JSON a script reads, in "bctrl --help".
const jsonOutputHelp = `JSON output (-o json):
  stdout holds what the command read and nothing else: the invocation as
  the API sent it (get: on success; wait: whenever one was observed,
  whatever the outcome, so "jq .status" works on failure too; the exit
  code says how it ended). On any failure stderr holds one JSON object on
  one line, and no message for people or progress lines (on a terminal,
  wait still draws its progress bar before it):
    {"error": {"code": "...", "message": "...", "request_id": "...", "exit_code": N}}
  "request_id" is the server's (empty if none). "code" is the API's error
  code when it sent one; otherwise one of usage, not_found, unauthorized,
  forbidden, api_error, invalid_response, network, timeout, interrupted,
  invocation_failed, invocation_cancelled, invocation_timed_out,
  invocation_unknown_status.`

// printError writes err to stderr for people, with a hint for some codes.
func (a *app) printError(cmd *cobra.Command, err error, code int) {
	e := a.stderr
	e.printf("bctrl: %s\n", a.errorMessage(err, code))
	switch {
	case code == exitUsage:
		var batch *batchError // a bad id in a batch: its line said why
		if cmd != nil && !errors.Is(err, errNoAPIKey) && !errors.As(err, &batch) {
			e.printf("Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	case code == exitAuth:
		e.printf("Check the API key given with --api-key or %s.\n", client.EnvAPIKey)
	case wrongEndpoint(err):
		e.printf("The server answered 404 without the API's %s code: check --base-url (or %s), "+
			"which should be the API's root, such as %s.\n", invocationNotFound, client.EnvBaseURL, client.DefaultBaseURL)
	}
}

// errorMessage is err's message, scrubbed, without the "bctrl: " prefix.
// The SDK scrubs what it returns; the message may also echo an argument
// or come from cobra.
func (a *app) errorMessage(err error, code int) string {
	if code == exitInterrupted {
		return "interrupted"
	}
	return strings.TrimPrefix(a.scrub(err.Error()), "bctrl: ")
}

// jsonErrors reports whether cmd's failure is also reported as JSON: the
// command has -o and it is json. When cobra failed to parse the flags, -o
// may come after the flag it stopped at, so args are read for it too.
func (a *app) jsonErrors(cmd *cobra.Command, args []string) bool {
	if cmd == nil || cmd.Flags().Lookup("output") == nil {
		return false
	}
	return a.output == "json" || !ran(cmd) && outputInArgs(args) == "json"
}

// outputInArgs returns the last value given to -o or --output in args, in
// any of the forms pflag accepts, or "".
func outputInArgs(args []string) string {
	var out string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return out
		case arg == "-o" || arg == "--output":
			if i+1 < len(args) {
				out = args[i+1]
				i++
			}
		case strings.HasPrefix(arg, "--output="):
			out = strings.TrimPrefix(arg, "--output=")
		case strings.HasPrefix(arg, "-o") && !strings.HasPrefix(arg, "--"):
			out = strings.TrimPrefix(strings.TrimPrefix(arg, "-o"), "=")
		}
	}
	return out
}

// errorJSON is the "error" member of the JSON a failure prints.
type errorJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	ExitCode  int    `json:"exit_code"`
}

// failureJSON is what a failure prints on stderr with -o json.
type failureJSON struct {
	Error errorJSON `json:"error"`
}

// errorObject is the "error" member reporting err, which exited with code.
func (a *app) errorObject(err error, code int) errorJSON {
	return errorJSON{
		Code:      errorCode(err, code),
		Message:   a.errorMessage(err, code),
		RequestID: requestID(err),
		ExitCode:  code,
	}
}

// printErrorJSON writes the JSON object of a failure to stderr, on one
// line.
func (a *app) printErrorJSON(err error, code int) {
	out := failureJSON{Error: a.errorObject(err, code)}
	b, jerr := encodeJSON(out, "")
	if jerr != nil { // strings only: cannot fail
		a.stderr.printf("bctrl: %s\n", out.Error.Message)
		return
	}
	if err := a.stderr.writeJSON(b); err != nil {
		a.stderr.printf("bctrl: write the JSON error: %v\n", err)
	}
}

// printJSONValue writes v to stdout as indented JSON.
func (a *app) printJSONValue(v any) error {
	b, err := encodeJSON(v, "  ")
	if err != nil {
		return err
	}
	return a.stdout.writeJSON(b)
}

// encodeJSON returns v as JSON, without HTML escaping, ending with a
// newline: indented by indent, or on one line if indent is "". Every JSON
// the CLI prints is made here and written with termOut.writeJSON.
func encodeJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errorCode is the "code" of a failure: the API's error code when it sent
// one and the exit code is about the API (3, 4, 5), otherwise a code of the
// CLI's own, listed in jsonOutputHelp.
func errorCode(err error, code int) string {
	switch code {
	case exitUsage:
		return "usage"
	case exitTimeout:
		return "timeout"
	case exitInterrupted:
		return "interrupted"
	case exitFailed:
		var ended *client.InvocationError
		if errors.As(err, &ended) {
			switch ended.Status {
			case client.StatusFailed, client.StatusCancelled, client.StatusTimedOut:
				return "invocation_" + string(ended.Status)
			}
		}
		return "invocation_unknown_status"
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code != "" {
		return apiErr.Code
	}
	switch {
	case code == exitNotFound:
		return "not_found"
	case errors.Is(err, client.ErrForbidden):
		return "forbidden"
	case code == exitAuth:
		return "unauthorized"
	case apiErr != nil:
		return "api_error"
	case errors.Is(err, client.ErrInvalidResponse), errors.Is(err, client.ErrResponseTooLarge):
		return "invalid_response"
	}
	return "network"
}

// requestID is the server's request id for err: from the failed response,
// else from the invocation the command last read.
func requestID(err error) string {
	var (
		apiErr  *client.APIError
		respErr *client.ResponseError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr.RequestID
	case errors.As(err, &respErr):
		return respErr.RequestID
	}
	if inv := invocationOf(err); inv != nil {
		return inv.RequestID()
	}
	return ""
}

// invocationOf returns the invocation a failed command read: the one that
// ended without succeeding, or the last one a wait saw before it stopped.
func invocationOf(err error) *client.Invocation {
	var (
		ended   *client.InvocationError
		stopped *client.WaitError
	)
	switch {
	case errors.As(err, &ended):
		return ended.Invocation
	case errors.As(err, &stopped):
		return stopped.Last
	}
	return nil
}

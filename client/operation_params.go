package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/oapi-codegen/runtime"
)

// This file holds what the generated methods (zz_operations.gen.go) share:
// sending their parameters, checking the invocations of a page, and
// following a cursor. The request itself is the operation the executor
// sends.

// addQuery adds the query parameter name with value v, styled as the spec
// says. A zero optional value is not sent: the model's optional fields
// have no pointer, and zero says "absent".
func (op *operation) addQuery(name string, v any, required bool, style string, explode bool) error {
	s, ok, err := styleParam(name, v, required, style, explode, runtime.ParamLocationQuery)
	if err != nil || !ok {
		return err
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return fmt.Errorf("bctrl: %s: query parameter %q: %w", op.ID, name, err)
	}
	if op.Query == nil {
		op.Query = url.Values{}
	}
	for k, vs := range q {
		op.Query[k] = append(op.Query[k], vs...)
	}
	return nil
}

// addHeader sets the header parameter name to v, styled as the spec says;
// a zero optional value is not sent.
func (op *operation) addHeader(name string, v any, required bool, style string, explode bool) error {
	s, ok, err := styleParam(name, v, required, style, explode, runtime.ParamLocationHeader)
	if err != nil || !ok {
		return err
	}
	if op.Header == nil {
		op.Header = http.Header{}
	}
	op.Header.Set(name, s)
	return nil
}

func styleParam(name string, v any, required bool, style string, explode bool, loc runtime.ParamLocation) (string, bool, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || ((rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.IsNil()) {
		if required {
			return "", false, fmt.Errorf("bctrl: parameter %q is required", name)
		}
		return "", false, nil
	}
	if !required && rv.IsZero() {
		return "", false, nil
	}
	s, err := runtime.StyleParamWithOptions(style, explode, name, v, runtime.StyleParamOptions{ParamLocation: loc})
	if err != nil {
		return "", false, fmt.Errorf("bctrl: parameter %q: %w", name, err)
	}
	return s, true, nil
}

// checkParamAuthorization refuses an Authorization parameter that is not
// empty and not the client's own "Bearer <key>", as Raw does.
func (c *Client) checkParamAuthorization(v string) error {
	if v == "" {
		return nil
	}
	return checkAuthorizationParam(&http.Request{Header: http.Header{"Authorization": {v}}}, c.cfg.apiKey)
}

// checkInvocations checks the required fields of a page's invocations, as
// Get checks its one. The error matches ErrInvalidResponse.
func checkInvocations(items []Invocation, field string) error {
	for i := range items {
		if err := checkRequired(&items[i]); err != nil {
			return fmt.Errorf("%w: %s[%d]: %w", ErrInvalidResponse, field, i, err)
		}
	}
	return nil
}

// errCursorLoop ends a pager whose server answers a cursor with itself.
var errCursorLoop = errors.New("bctrl: the next page's cursor is the one just sent")

// nextCursor returns the cursor of the page after one fetched with sent,
// "" after the last; a server that hands back the cursor it was sent
// would page forever, and is an error.
func nextCursor(sent, next string) (string, error) {
	next = strings.TrimSpace(next)
	if next != "" && next == sent {
		return "", fmt.Errorf("%w: %q", errCursorLoop, next)
	}
	return next, nil
}

// cursorOf reads a cursor the model holds as a string or a *string.
func cursorOf(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case *string:
		if c != nil {
			return *c
		}
	}
	return ""
}

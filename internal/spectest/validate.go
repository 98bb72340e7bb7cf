package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// invocationURL is a request URL that the router resolves to
// GET /v1/invocations/{id}; its host is the spec's first server.
const invocationURL = "https://api.bctrl.ai/v1/invocations/0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b10"

// uuidPattern is JSON Schema 2020-12's "uuid" format: RFC 4122's string
// representation, hex digits in either case and any version and variant
// (the JSON Schema test suite accepts a "hypothetical version 15").
// kin-openapi's FormatOfStringForUUIDOfRFC9562 also wants a version 1 to
// 8 and the RFC 9562 variant, which would reject bodies the spec allows.
const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// formatOptions make the validator check the two formats the spec uses.
// kin-openapi knows neither by default, and ignores unknown formats.
var formatOptions = []openapi3.SchemaValidationOption{
	openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
	openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if !u.IsAbs() {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
		return nil
	})),
}

// anyType lists every JSON type; see permitNullInEmptySchemas.
var anyType = openapi3.Types{
	openapi3.TypeNull, openapi3.TypeBoolean, openapi3.TypeObject,
	openapi3.TypeArray, openapi3.TypeNumber, openapi3.TypeString,
}

// permitNullInEmptySchemas works around a kin-openapi v0.153.0 quirk. The
// spec's "any type" schemas (a step's result, metadata and error details
// values, request args) are empty schemas, which accept null in OpenAPI 3.1.
// For a schema that holds component $refs and no 2020-only keyword,
// kin-openapi validates with its OpenAPI 3.0 visitor while in JSON Schema
// 2020 mode, where only a "null" in type permits null, so it rejects
// "result": null. Spelling the empty schemas out as the union of all JSON
// types keeps their meaning and lets null through.
func permitNullInEmptySchemas(doc *openapi3.T) error {
	return doc.WalkSchemas(func(_ string, ref *openapi3.SchemaRef) error {
		if s := ref.Value; s.IsEmpty() {
			s.Type = &anyType
		}
		return nil
	})
}

type invocationRoute struct {
	route      *routers.Route
	pathParams map[string]string
}

// batchPath is the path of an operation routeOnce adds to its private copy
// of the spec for ValidateInvocations: GET answered with an array of
// invocations. Nothing outside this file sees it.
const batchPath = "/spectest/invocations"

// routes holds GET /v1/invocations/{id} and the batch route.
type routes struct {
	one, batch invocationRoute
}

// routeOnce resolves GET /v1/invocations/{id} in a private copy of the spec,
// so that permitNullInEmptySchemas does not change the document Load returns.
var routeOnce = sync.OnceValues(func() (*routes, error) {
	root, err := rootOnce()
	if err != nil {
		return nil, err
	}
	doc, err := loadSpec(filepath.Join(root, "openapi.yaml"))
	if err != nil {
		return nil, err
	}
	if err := permitNullInEmptySchemas(doc); err != nil {
		return nil, fmt.Errorf("spectest: %w", err)
	}
	if err := addBatchPath(doc); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("spectest: build router: %w", err)
	}
	var r routes
	for _, x := range []struct {
		url   string
		route *invocationRoute
	}{{invocationURL, &r.one}, {batchURL, &r.batch}} {
		req, err := http.NewRequest(http.MethodGet, x.url, nil)
		if err != nil {
			return nil, fmt.Errorf("spectest: %w", err)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			return nil, fmt.Errorf("spectest: find route for GET %s: %w", x.url, err)
		}
		*x.route = invocationRoute{route: route, pathParams: params}
	}
	return &r, nil
})

// batchURL is a request URL that the router resolves to batchPath.
const batchURL = "https://api.bctrl.ai" + batchPath

// addBatchPath adds GET batchPath to doc, whose 200 application/json
// response is an array of GET /v1/invocations/{id}'s 200 body.
func addBatchPath(doc *openapi3.T) error {
	item := doc.Paths.Find("/v1/invocations/{id}")
	if item == nil || item.Get == nil {
		return fmt.Errorf("spectest: spec has no GET /v1/invocations/{id}")
	}
	resp := item.Get.Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
		return fmt.Errorf("spectest: GET /v1/invocations/{id} has no 200 application/json response")
	}
	one := resp.Value.Content.Get("application/json").Schema
	array := openapi3.NewArraySchema()
	array.Items = one
	desc := "invocations"
	responses := openapi3.NewResponses(openapi3.WithStatus(http.StatusOK, &openapi3.ResponseRef{
		Value: openapi3.NewResponse().WithDescription(desc).WithJSONSchema(array),
	}))
	doc.Paths.Set(batchPath, &openapi3.PathItem{Get: &openapi3.Operation{Responses: responses}})
	return nil
}

// ValidateInvocation validates a response to GET /v1/invocations/{id}
// against the spec, including the oneOf that discriminates ok and failed
// steps. It returns an error describing the first mismatch, or nil if the
// response is valid. A header without Content-Type is treated as
// application/json. Statuses the spec does not document are rejected.
//
// The test fails (rather than an error being returned) only when the spec
// itself cannot be loaded or routed.
func ValidateInvocation(t testing.TB, status int, header http.Header, body []byte) error {
	t.Helper()
	r, err := routeOnce()
	if err != nil {
		t.Fatal(err)
	}
	return validate(t, r.one, status, header, body)
}

// ValidateInvocations validates many 200 application/json responses to
// GET /v1/invocations/{id}, as ValidateInvocation does each one: errs[i]
// is ValidateInvocation's answer for bodies[i].
//
// It is ValidateInvocation made fast for thousands of bodies. kin-openapi
// v0.153.0 compiles the schema into a JSON Schema 2020 validator anew for
// every body (some milliseconds, more than the validation itself); so
// ValidateInvocations validates the bodies together, as one JSON array
// against an array of the same schema, through the same openapi3filter
// call with the same options, and only when that fails validates halves,
// down to ValidateInvocation for one or two bodies. Each item is checked
// against the same *openapi3.Schema either way. A body that is not a
// single JSON value goes to ValidateInvocation alone.
func ValidateInvocations(t testing.TB, bodies [][]byte) (errs []error) {
	t.Helper()
	r, err := routeOnce()
	if err != nil {
		t.Fatal(err)
	}
	errs = make([]error, len(bodies))
	// Each body must be one JSON value on its own: "{...},{...}" is not,
	// but would pass as two items of the array.
	var whole []int
	for i, b := range bodies {
		if json.Valid(b) {
			whole = append(whole, i)
		} else {
			errs[i] = validate(t, r.one, http.StatusOK, nil, b)
		}
	}
	var check func(idx []int)
	check = func(idx []int) {
		if len(idx) <= 2 { // a pair that fails mostly holds two invalid bodies
			for _, i := range idx {
				errs[i] = validate(t, r.one, http.StatusOK, nil, bodies[i])
			}
			return
		}
		var array bytes.Buffer
		array.WriteByte('[')
		for n, i := range idx {
			if n > 0 {
				array.WriteByte(',')
			}
			array.Write(bodies[i])
		}
		array.WriteByte(']')
		if validate(t, r.batch, http.StatusOK, nil, array.Bytes()) == nil {
			return
		}
		check(idx[:len(idx)/2])
		check(idx[len(idx)/2:])
	}
	if len(whole) > 0 {
		check(whole)
	}
	return errs
}

// validate validates a response to the route r.
func validate(t testing.TB, r invocationRoute, status int, header http.Header, body []byte) error {
	t.Helper()
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, invocationURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: r.pathParams,
			Route:      r.route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: h,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: formatOptions,
		},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

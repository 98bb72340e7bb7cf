package bctrltest

import "github.com/bctrlhq/sdk-go/gen"

// The builders and the Server take and return the API's wire types under
// the names below, so a test names them without importing the generated
// package; the types of their fields (client.Progress, client.ErrorInfo,
// client.Diagnostic, ...) are client's aliases of the same generated types.

// Invocation is an invocation as the API sends it, which the fake serves:
// NewInvocation builds one, and Running, Succeeded, Failed, WithStatus and
// the others return changed copies. Its fields are the generated model's
// (go doc github.com/bctrlhq/sdk-go/gen Invocation); set any of them
// directly. A client decodes it into a client.Invocation, which has the
// same fields, a client.Status, and discriminated steps.
type Invocation = gen.Invocation

// Step is one step of an Invocation's result as the API sends it, either
// variant: OKStep and ErrStep build one, with options that set any field of
// the variant. A client decodes it into a client.Step.
type Step = gen.Step

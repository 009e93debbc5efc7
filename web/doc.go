// Package web owns sesame's HTTP face for people: the embedded templates of
// every page (the account pages', the error page, and the OpenID Connect
// provider's login pages, which idp renders through the Renderer it is
// given) and static files, every template parsed at start-up; the choice of
// the person's language (the sentences are in internal/i18n's catalogue);
// the middleware (security headers, CSRF on sesame's own forms, rate
// limits, request logging, panic recovery); the one function that turns an
// error into an HTTP response; the account pages (activation, password
// reset, link requests), every person's portal at / (Portal), the
// administration pages under /admin for hoster admins and structure
// referents (Admin, with the one authorisation function Authorize and the
// route table AdminRoutes) and the health endpoints (/healthz, /readyz).
//
// Handlers are structs with explicit dependency fields and a Mount method;
// cmd/sesame wires them all onto one mux.
package web

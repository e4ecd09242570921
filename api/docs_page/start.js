// /api/docs: Swagger UI reading this server's contract (a file of its own: the pages' CSP runs no inline script).
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});

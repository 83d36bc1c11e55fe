/* The browsable API page (/api/docs): Swagger UI, vendored, over the hall's own OpenAPI
   document. No validator URL: Swagger UI would otherwise send the document to an outside
   service, and the hall is offline. */
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});

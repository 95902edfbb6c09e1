// Starts Swagger UI on /docs with the settings of FastAPI's own page (fastapi.openapi.docs).
// It is a served file, not an inline script, so that the page's Content-Security-Policy can
// allow scripts from the gateway's origin only (script-src 'self').
"use strict";

window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // No "valid" badge: it would send the schema to validator.swagger.io.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});

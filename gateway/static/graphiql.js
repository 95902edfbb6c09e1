// Starts GraphiQL, with the explorer plugin, on GET /graphql. Adapted from Strawberry's page
// (strawberry/static/graphiql.html, MIT), less what the gateway does not use: its CSRF cookie
// (the gateway authenticates by header only) and subscriptions (the schema has none). It is a
// served file, not an inline script, so that the page's Content-Security-Policy can allow
// scripts from the gateway's origin only (script-src 'self').
"use strict";

const EXAMPLE_QUERY = `# GraphiQL for rq-gateway
#
# Run a query with Ctrl-Enter or the play button; Ctrl-Space completes.
# With API keys, add this in the Headers tab below:
#   {"Authorization": "Bearer rqg_..."}

{
  queueStats {
    queueName
    queuedCount
    failedCount
  }
}
`;

// The query, variables and headers are kept in the URL, so a link shares them.
const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  if (eq >= 0) {
    parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
  }
}

function updateURL(data) {
  Object.assign(parameters, data);
  const search = Object.keys(parameters)
    .filter((key) => Boolean(parameters[key]))
    .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
    .join("&");
  history.replaceState(null, null, "?" + search);
}

const fetcher = GraphiQL.createFetcher({ url: window.location.href.split("?")[0] });

function GraphiQLWithExplorer() {
  const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(parameters.variables);
  const [headers, setHeaders] = React.useState(parameters.headers);
  const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

  return React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    plugins: [explorerPlugin],
    query: query,
    variables: variables,
    headers: headers,
    onEditQuery: (value) => {
      setQuery(value);
      updateURL({ q: value });
    },
    onEditVariables: (value) => {
      setVariables(value);
      updateURL({ variables: value });
    },
    onEditHeaders: setHeaders,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQLWithExplorer));

# The API and the network explorer, for docker-compose.yml (Neo4j backend).
FROM node:20-slim AS browser-libraries
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph graph
COPY loaders loaders
COPY queries queries
COPY api api
COPY bench bench
COPY --from=browser-libraries /app/node_modules node_modules
# Installed in place: the explorer serves cytoscape.js, and /api/v1/docs Swagger UI, from node_modules beside the packages.
RUN pip install --no-cache-dir -e .
ENV CRM_GRAPH_BACKEND=neo4j
EXPOSE 8000
CMD ["crm-graph", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph graph
COPY loaders loaders
COPY queries queries
COPY api api
RUN pip install --no-cache-dir .
ENV CRM_GRAPH_BACKEND=neo4j
EXPOSE 8000
CMD ["crm-graph", "serve", "--host", "0.0.0.0", "--port", "8000"]

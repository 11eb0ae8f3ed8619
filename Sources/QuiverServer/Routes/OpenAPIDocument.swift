// OpenAPIDocument: the OpenAPI 3.1 description of every public endpoint, served at
// GET /api/v1/openapi.json. A test checks that every route the server registers (but the
// benchmark ones) has a path here, so the document cannot fall behind the router. One line per
// path and per schema; error responses are shared components.

enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {"title": "Quiver", "version": "0.1.0", "description": "Real-time personalization server. Every error is {\"error\": {\"status\", \"code\", \"message\", \"field\"?}}."},
 "paths": {
  "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "alive", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
  "/ready": {"get": {"summary": "Readiness: every configured dependency and whether it answers", "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}, "503": {"description": "a dependency does not answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}}}},
  "/api/v1/version": {"get": {"summary": "Server and API version", "responses": {"200": {"description": "version", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Version"}}}}}}},
  "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
  "/api/v1/events": {"post": {"summary": "Ingest events; accepted ones are durable before the answer", "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}}}, "responses": {"200": {"description": "per-event outcome (rejected events listed by index and field)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatchResult"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}, "413": {"$ref": "#/components/responses/ContentTooLarge"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
  "/api/v1/features/realtime/{user_id}": {"get": {"summary": "Real-time features of a user", "parameters": [{"name": "user_id", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 256}}, {"name": "device", "in": "query", "schema": {"type": "string"}}, {"name": "locale", "in": "query", "schema": {"type": "string"}}, {"name": "page", "in": "query", "schema": {"type": "string"}}, {"name": "vector", "in": "query", "schema": {"type": "boolean"}}], "responses": {"200": {"description": "features", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserFeatures"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}}}},
  "/api/v1/features/compute": {"post": {"summary": "Features of many users", "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ComputeRequest"}}}}, "responses": {"200": {"description": "features per user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ComputeResponse"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}, "413": {"$ref": "#/components/responses/ContentTooLarge"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}}},
  "/api/v1/features/status": {"get": {"summary": "Definition version, history and cache metrics", "responses": {"200": {"description": "status", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureStatus"}}}}}}},
  "/api/v1/features/definitions": {"put": {"summary": "Load a new feature definition set (state is kept)", "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureDefinitionSet"}}}}, "responses": {"200": {"description": "the new status", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureStatus"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}}},
  "/api/v1/features/definitions/rollback": {"post": {"summary": "Return to the previous definition version", "responses": {"200": {"description": "the new status", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeatureStatus"}}}}, "409": {"$ref": "#/components/responses/Conflict"}}}},
  "/api/v1/items/{item_id}": {"put": {"summary": "Create or replace a catalog item (durable before the answer)", "parameters": [{"name": "item_id", "in": "path", "required": true, "schema": {"type": "string"}}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CatalogItem"}}}}, "responses": {"200": {"description": "the stored item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CatalogItem"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}, "415": {"$ref": "#/components/responses/UnsupportedMediaType"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
  "/api/v1/items/import": {"post": {"summary": "Import catalog items, one JSON object per line; all or nothing", "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string", "description": "JSON lines of CatalogItem"}}}}, "responses": {"200": {"description": "count imported", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}}}, "400": {"$ref": "#/components/responses/BadRequest"}, "503": {"$ref": "#/components/responses/Unavailable"}}}}
 },
 "components": {
  "responses": {
   "BadRequest": {"description": "bad input; the error names the field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
   "Conflict": {"description": "conflict", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
   "ContentTooLarge": {"description": "body too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
   "Unavailable": {"description": "dependency unavailable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
   "UnsupportedMediaType": {"description": "not JSON", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  },
  "schemas": {
   "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["status", "code", "message"], "properties": {"status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}, "errors": {"type": "array", "items": {"$ref": "#/components/schemas/EventError"}}}}}},
   "Health": {"type": "object", "properties": {"status": {"type": "string"}, "uptime_s": {"type": "number"}}},
   "Version": {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "api": {"type": "string"}}},
   "Readiness": {"type": "object", "properties": {"status": {"enum": ["ready", "not_ready"]}, "checks": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"}, "target": {"type": "string"}, "ok": {"type": "boolean"}, "latency_ms": {"type": "number"}, "error": {"type": "string"}}}}}},
   "EventContext": {"type": "object", "properties": {"device": {"type": "string"}, "locale": {"type": "string"}, "page": {"type": "string"}}, "additionalProperties": {"type": "string"}},
   "Event": {"type": "object", "required": ["user_id", "type"], "properties": {"user_id": {"type": "string", "minLength": 1, "maxLength": 256}, "item_id": {"type": "string"}, "type": {"type": "string", "description": "view, click, add_to_cart, purchase, rating, dwell, or a custom type from the definitions"}, "value": {"type": "number", "default": 1}, "timestamp": {"type": "number", "description": "Unix seconds; stamped by the server when missing"}, "context": {"$ref": "#/components/schemas/EventContext"}}},
   "EventBatch": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "minItems": 1}}},
   "EventError": {"type": "object", "properties": {"index": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"}}},
   "EventBatchResult": {"type": "object", "properties": {"accepted": {"type": "integer"}, "rejected": {"type": "integer"}, "errors": {"type": "array", "items": {"$ref": "#/components/schemas/EventError"}}}},
   "CatalogItem": {"type": "object", "required": ["item_id"], "properties": {"item_id": {"type": "string"}, "title": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}}, "tags": {"type": "array", "items": {"type": "string"}}, "attributes": {"type": "object", "additionalProperties": {"type": "number"}}, "embedding": {"type": "array", "items": {"type": "number"}}, "available": {"type": "boolean", "default": true}, "created_at": {"type": "number"}}},
   "RealTimeFeatures": {"type": "object", "properties": {"user_id": {"type": "string"}, "temporal": {"type": "object", "additionalProperties": {"type": "number"}}, "behavioral": {"type": "object", "additionalProperties": {"type": "number"}}, "contextual": {"type": "object", "additionalProperties": {"type": "number"}}, "aggregated": {"type": "object", "additionalProperties": {"type": "number"}}, "recent_items": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}, "version": {"type": "string"}, "timestamp": {"type": "number"}}},
   "UserFeatures": {"type": "object", "properties": {"user_id": {"type": "string"}, "version": {"type": "string"}, "features": {"$ref": "#/components/schemas/RealTimeFeatures"}, "vector": {"type": "array", "items": {"type": "number"}}, "vector_names": {"type": "array", "items": {"type": "string"}}}},
   "ComputeRequest": {"type": "object", "required": ["user_ids"], "properties": {"user_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1}, "context": {"$ref": "#/components/schemas/EventContext"}, "include_vector": {"type": "boolean"}}},
   "ComputeResponse": {"type": "object", "properties": {"version": {"type": "string"}, "users": {"type": "array", "items": {"$ref": "#/components/schemas/UserFeatures"}}}},
   "FeatureStatus": {"type": "object", "properties": {"version": {"type": "string"}, "history": {"type": "array", "items": {"type": "string"}}, "vector_length": {"type": "integer"}, "metrics": {"type": "object"}, "hit_rate": {"type": "number"}, "evicted_states_held": {"type": "integer"}, "evicted_states_dropped": {"type": "integer"}}},
   "FeatureDefinitionSet": {"type": "object", "required": ["version", "definitions"], "description": "See config/features.yaml and docs/features.md"},
   "ImportResult": {"type": "object", "properties": {"imported": {"type": "integer"}}}
  }
 }
}
"""#
}

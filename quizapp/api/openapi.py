"""The OpenAPI 3.0 description of the JSON endpoints, served at /api/openapi.json."""
from __future__ import annotations

ANSWER_BODY = {
    "type": "object",
    "required": ["question_id"],
    "properties": {
        "question_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
        "choice_ids": {"type": "array", "maxItems": 20,
                       "items": {"type": "integer", "minimum": 1, "maximum": 1073741824},
                       "description": "the attempt's choice tokens (the quiz page's option "
                                      "values), not database ids"},
        "client": {"type": "string", "maxLength": 32, "pattern": "^[A-Za-z0-9]+$",
                   "description": "autosave only: a random id of the sending page"},
        "seq": {"type": "integer", "minimum": 0, "maximum": 4611686018427387903,
                "description": "autosave only: the client's increasing sequence number; a save "
                               "with a number not above the stored one changes nothing"},
    },
    "additionalProperties": True,
}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
ATTEMPT_ID = {"name": "attempt_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}
CSRF = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}


def _errors(*codes: int) -> dict:
    text = {400: "Invalid body (JSON over JSON_MAX_BYTES, 64 KB, or nested over JSON_MAX_DEPTH, "
                 "20 levels, included), choice or question outside the attempt, or missing CSRF token",
            401: "Not logged in", 404: "Not found (or not yours)",
            409: "Finished, locked, or past the deadline (the attempt is then finished)",
            413: "Body too large", 429: "Too many requests", 503: "Database unavailable"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": ERROR}}}
            for c in codes}


def spec() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "quizapp JSON API", "version": "1.0",
                 "description": "Endpoints used by the quiz page's script. Session cookie "
                                "authentication; every POST needs the X-CSRFToken header."},
        "paths": {
            "/healthz": {"get": {"summary": "The process answers", "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
            "/readyz": {"get": {"summary": "Database (and Redis) reachable", "responses": {
                "200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/api/attempts/{attempt_id}": {"get": {
                "summary": "State of one of my attempts", "parameters": [ATTEMPT_ID],
                "responses": {"200": {"description": "state", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "id": {"type": "integer"}, "status": {"type": "string"},
                        "seconds_left": {"type": "integer", "nullable": True},
                        "answered": {"type": "integer"}}}}}}, **_errors(401, 404)}}},
            "/api/attempts/{attempt_id}/answers": {"post": {
                "summary": "Autosave one answer (an empty list clears it)",
                "parameters": [ATTEMPT_ID, CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ANSWER_BODY}}},
                "responses": {"200": {"description": "saved", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "saved": {"type": "boolean"}, "question_id": {"type": "integer"},
                        "choice_ids": {"type": "array", "items": {"type": "integer"},
                                       "description": "the saved answer, as choice tokens"},
                        "seconds_left": {"type": "integer", "nullable": True}}}}}},
                    **_errors(400, 401, 404, 409, 413, 429, 503)}}},
            "/api/attempts/{attempt_id}/check": {"post": {
                "summary": "Immediate-feedback practice: save, lock and grade one answer "
                           "(409 while a scheduled or open contest round may ask the question)",
                "parameters": [ATTEMPT_ID, CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ANSWER_BODY}}},
                "responses": {"200": {"description": "graded", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "question_id": {"type": "integer"}, "is_correct": {"type": "boolean"},
                        "correct_choice_ids": {"type": "array", "items": {"type": "integer"},
                                               "description": "the right choices, as choice tokens"},
                        "explanation": {"type": "string"}, "section_title": {"type": "string"},
                        "section_url": {"type": "string"}}}}}},
                    **_errors(400, 401, 404, 409, 413, 429, 503)}}},
            "/api/attempts/{attempt_id}/prediction": {"post": {
                "summary": "Contest tie-break prediction, editable until submit",
                "parameters": [ATTEMPT_ID, CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"prediction": {
                        "type": "integer", "nullable": True, "minimum": 0, "maximum": 10000000}}}}}},
                "responses": {"200": {"description": "saved"}, **_errors(400, 401, 404, 409, 413, 503)}}},
        },
    }

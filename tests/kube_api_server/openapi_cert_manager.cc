#include "openapi_cert_manager.h"


#include "json.h"
#include "openapi_v1.h"

namespace kube_test {
namespace {

// The Certificate's schema, shortened: the fields cert-manager's CRD
// declares that certsync and the tests read; the rest of spec and status is
// kept as sent (x-kubernetes-preserve-unknown-fields), where the real CRD
// lists every field.
const char kDocument[] = R"json({
  "openapi": "3.0.0",
  "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
  "paths": {
    "/apis/cert-manager.io/v1/namespaces/{namespace}/certificates": {
      "get": {"operationId": "listCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "list",
              "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.CertificateList"}}}}}},
      "post": {"operationId": "createCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "post",
               "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
               "parameters": [{"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                              {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                              {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
               "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}},
               "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}}}},
      "parameters": [{"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}]
    },
    "/apis/cert-manager.io/v1/namespaces/{namespace}/certificates/{name}": {
      "get": {"operationId": "readCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "get",
              "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}}}},
      "put": {"operationId": "replaceCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "put",
              "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
              "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
              "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}},
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}}}},
      "patch": {"operationId": "patchCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                               {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}],
                "requestBody": {"content": {"application/apply-patch+yaml": {"schema": {"type": "object"}},
                                            "application/json-patch+json": {"schema": {"type": "object"}},
                                            "application/merge-patch+json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}}}}}},
      "delete": {"operationId": "deleteCertManagerIoV1NamespacedCertificate", "x-kubernetes-action": "delete",
                 "x-kubernetes-group-version-kind": {"group": "cert-manager.io", "version": "v1", "kind": "Certificate"},
                 "responses": {"200": {"description": "OK"}}},
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}},
                     {"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}]
    }
  },
  "components": {
    "schemas": {
      "io.cert-manager.v1.Certificate": {
        "description": "A Certificate resource should be created to ensure an up to date and signed X.509 certificate is stored in the Kubernetes Secret resource named in `spec.secretName`.",
        "type": "object",
        "required": ["spec"],
        "properties": {
          "apiVersion": {"type": "string"},
          "kind": {"type": "string"},
          "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
          "spec": {
            "type": "object",
            "required": ["issuerRef", "secretName"],
            "properties": {
              "secretName": {"type": "string"},
              "commonName": {"type": "string"},
              "dnsNames": {"type": "array", "items": {"type": "string"}},
              "duration": {"type": "string"},
              "renewBefore": {"type": "string"},
              "issuerRef": {"type": "object", "required": ["name"],
                            "properties": {"group": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"}}}
            },
            "x-kubernetes-preserve-unknown-fields": true
          },
          "status": {
            "type": "object",
            "properties": {
              "conditions": {"type": "array", "items": {"type": "object", "required": ["status", "type"],
                "properties": {"lastTransitionTime": {"type": "string", "format": "date-time"}, "message": {"type": "string"},
                               "observedGeneration": {"type": "integer", "format": "int64"}, "reason": {"type": "string"},
                               "status": {"type": "string", "enum": ["True", "False", "Unknown"]}, "type": {"type": "string"}}},
                "x-kubernetes-list-map-keys": ["type"], "x-kubernetes-list-type": "map"},
              "failedIssuanceAttempts": {"type": "integer"},
              "lastFailureTime": {"type": "string", "format": "date-time"},
              "nextPrivateKeySecretName": {"type": "string"},
              "notAfter": {"type": "string", "format": "date-time"},
              "notBefore": {"type": "string", "format": "date-time"},
              "renewalTime": {"type": "string", "format": "date-time"},
              "revision": {"type": "integer"}
            }
          }
        },
        "x-kubernetes-group-version-kind": [{"group": "cert-manager.io", "kind": "Certificate", "version": "v1"}]
      },
      "io.cert-manager.v1.CertificateList": {
        "type": "object",
        "required": ["items"],
        "properties": {
          "apiVersion": {"type": "string"},
          "items": {"type": "array", "items": {"$ref": "#/components/schemas/io.cert-manager.v1.Certificate"}},
          "kind": {"type": "string"},
          "metadata": {"type": "object"}
        },
        "x-kubernetes-group-version-kind": [{"group": "cert-manager.io", "kind": "CertificateList", "version": "v1"}]
      }
    }
  }
})json";

}  // namespace

const std::string &openapi_v3_cert_manager() {
  static const std::string doc = Json::parse(kDocument).dump();
  return doc;
}

const std::string &openapi_v3_cert_manager_hash() {
  static const std::string hash = openapi_document_hash(openapi_v3_cert_manager());
  return hash;
}

}  // namespace kube_test

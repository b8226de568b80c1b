#include "openapi_v1.h"

#include <openssl/evp.h>

#include "json.h"

namespace kube_test {
namespace {

// The schemas, written out as JSON so they read like the real document.
const char kComponents[] = R"json({
  "schemas": {
    "io.k8s.api.core.v1.Secret": {
      "description": "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
      "type": "object",
      "properties": {
        "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object.", "type": "string"},
        "data": {"description": "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'.", "type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
        "immutable": {"description": "Immutable, if set to true, ensures that data stored in the Secret cannot be updated.", "type": "boolean"},
        "kind": {"description": "Kind is a string value representing the REST resource this object represents.", "type": "string"},
        "metadata": {"description": "Standard object's metadata.", "default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
        "stringData": {"description": "stringData allows specifying non-binary secret data in string form. It is merged into the data field on write.", "type": "object", "additionalProperties": {"type": "string", "default": ""}},
        "type": {"description": "Used to facilitate programmatic handling of secret data.", "type": "string"}
      },
      "x-kubernetes-group-version-kind": [{"group": "", "kind": "Secret", "version": "v1"}]
    },
    "io.k8s.api.core.v1.SecretList": {
      "description": "SecretList is a list of Secret.",
      "type": "object",
      "required": ["items"],
      "properties": {
        "apiVersion": {"type": "string"},
        "items": {"type": "array", "items": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Secret"}]}},
        "kind": {"type": "string"},
        "metadata": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}]}
      },
      "x-kubernetes-group-version-kind": [{"group": "", "kind": "SecretList", "version": "v1"}]
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": {
      "type": "object",
      "properties": {
        "continue": {"type": "string"},
        "remainingItemCount": {"type": "integer", "format": "int64"},
        "resourceVersion": {"type": "string"},
        "selfLink": {"type": "string"}
      }
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
      "description": "ObjectMeta is metadata that all persisted resources must have.",
      "type": "object",
      "properties": {
        "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
        "creationTimestamp": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]},
        "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
        "deletionTimestamp": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]},
        "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-patch-strategy": "merge"},
        "generateName": {"type": "string"},
        "generation": {"type": "integer", "format": "int64"},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
        "managedFields": {"type": "array", "items": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"}]}},
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "ownerReferences": {"type": "array", "items": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"}]}, "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
        "resourceVersion": {"type": "string"},
        "selfLink": {"type": "string"},
        "uid": {"type": "string"}
      }
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": {
      "type": "object",
      "properties": {
        "apiVersion": {"type": "string"},
        "fieldsType": {"type": "string"},
        "fieldsV1": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"}]},
        "manager": {"type": "string"},
        "operation": {"type": "string"},
        "subresource": {"type": "string"},
        "time": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]}
      }
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
      "type": "object",
      "required": ["apiVersion", "kind", "name", "uid"],
      "properties": {
        "apiVersion": {"type": "string", "default": ""},
        "blockOwnerDeletion": {"type": "boolean"},
        "controller": {"type": "boolean"},
        "kind": {"type": "string", "default": ""},
        "name": {"type": "string", "default": ""},
        "uid": {"type": "string", "default": ""}
      },
      "x-kubernetes-map-type": "atomic"
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": {"type": "object"},
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": {"type": "string", "format": "date-time"},
    "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions": {
      "type": "object",
      "properties": {"resourceVersion": {"type": "string"}, "uid": {"type": "string"}}
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {
      "type": "object",
      "properties": {
        "apiVersion": {"type": "string"},
        "dryRun": {"type": "array", "items": {"type": "string", "default": ""}},
        "gracePeriodSeconds": {"type": "integer", "format": "int64"},
        "kind": {"type": "string"},
        "preconditions": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions"}]},
        "propagationPolicy": {"type": "string"}
      },
      "x-kubernetes-group-version-kind": [{"group": "", "kind": "DeleteOptions", "version": "v1"}]
    },
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status": {
      "type": "object",
      "properties": {
        "apiVersion": {"type": "string"},
        "code": {"type": "integer", "format": "int32"},
        "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "kind": {"type": "string"},
        "message": {"type": "string"},
        "metadata": {"default": {}, "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}]},
        "reason": {"type": "string"},
        "status": {"type": "string"}
      },
      "x-kubernetes-group-version-kind": [{"group": "", "kind": "Status", "version": "v1"}]
    }
  }
})json";

Json ref(const std::string &schema) {
  Json r;
  r["$ref"] = "#/components/schemas/" + schema;
  return r;
}

Json query_param(const char *name, const char *type, const char *description) {
  Json p;
  p["name"] = name;
  p["in"] = "query";
  p["description"] = description;
  p["schema"]["type"] = type;
  p["schema"]["uniqueItems"] = true;
  return p;
}

Json path_param(const char *name, const char *description) {
  Json p;
  p["name"] = name;
  p["in"] = "path";
  p["description"] = description;
  p["required"] = true;
  p["schema"]["type"] = "string";
  p["schema"]["uniqueItems"] = true;
  return p;
}

Json json_content(const Json &schema, bool with_protobuf) {
  Json c;
  c["application/json"]["schema"] = schema;
  if (with_protobuf) {
    c["application/vnd.kubernetes.protobuf"]["schema"] = schema;
  }
  c["application/yaml"]["schema"] = schema;
  return c;
}

Json responses(std::initializer_list<const char *> codes, const char *schema) {
  Json r;
  for (const char *code : codes) {
    r[code]["description"] = std::string(code) == "201" ? "Created"
                             : std::string(code) == "202" ? "Accepted"
                                                          : "OK";
    r[code]["content"] = json_content(ref(schema), true);
  }
  r["401"]["description"] = "Unauthorized";
  return r;
}

// One operation for Secrets: the extensions kubectl matches on.
Json operation(const char *id, const char *action, const char *description) {
  Json op;
  op["tags"] = Json::array({"core_v1"});
  op["description"] = description;
  op["operationId"] = id;
  op["x-kubernetes-action"] = action;
  op["x-kubernetes-group-version-kind"] = {
      {"group", ""}, {"version", "v1"}, {"kind", "Secret"}};
  return op;
}

Json write_params(bool with_validation) {
  Json p = Json::array();
  p.push_back(query_param("dryRun", "string",
                          "When present, indicates that modifications should "
                          "not be persisted."));
  p.push_back(query_param("fieldManager", "string",
                          "fieldManager is a name associated with the actor "
                          "or entity that is making these changes."));
  if (with_validation) {
    p.push_back(query_param("fieldValidation", "string",
                            "fieldValidation instructs the server on how to "
                            "handle objects in the request containing unknown "
                            "or duplicate fields: Ignore, Warn or Strict."));
  }
  return p;
}

Json build_document() {
  const std::string kSecret = "io.k8s.api.core.v1.Secret";
  const std::string kList = "io.k8s.api.core.v1.SecretList";
  Json list_params = Json::array();
  for (const char *name :
       {"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector",
        "limit", "resourceVersion", "resourceVersionMatch", "timeoutSeconds",
        "watch"}) {
    const bool integer = std::string(name) == "limit" ||
                         std::string(name) == "timeoutSeconds";
    const bool boolean = std::string(name) == "allowWatchBookmarks" ||
                         std::string(name) == "watch";
    list_params.push_back(query_param(
        name, integer ? "integer" : boolean ? "boolean" : "string", name));
  }

  Json collection;
  collection["get"] = operation("listCoreV1NamespacedSecret", "list",
                                "list or watch objects of kind Secret");
  collection["get"]["parameters"] = list_params;
  collection["get"]["responses"] = responses({"200"}, kList.c_str());
  collection["post"] = operation("createCoreV1NamespacedSecret", "post",
                                 "create a Secret");
  collection["post"]["parameters"] = write_params(true);
  collection["post"]["requestBody"]["content"] =
      json_content(ref(kSecret), true);
  collection["post"]["requestBody"]["required"] = true;
  collection["post"]["responses"] =
      responses({"200", "201", "202"}, kSecret.c_str());
  collection["parameters"] = Json::array(
      {path_param("namespace", "object name and auth scope, such as for "
                               "teams and projects"),
       query_param("pretty", "string",
                   "If 'true', then the output is pretty printed.")});

  Json item;
  item["get"] = operation("readCoreV1NamespacedSecret", "get",
                          "read the specified Secret");
  item["get"]["responses"] = responses({"200"}, kSecret.c_str());
  item["put"] = operation("replaceCoreV1NamespacedSecret", "put",
                          "replace the specified Secret");
  item["put"]["parameters"] = write_params(true);
  item["put"]["requestBody"]["content"] = json_content(ref(kSecret), true);
  item["put"]["requestBody"]["required"] = true;
  item["put"]["responses"] = responses({"200", "201"}, kSecret.c_str());
  item["patch"] = operation("patchCoreV1NamespacedSecret", "patch",
                            "partially update the specified Secret");
  Json patch_params = write_params(true);
  patch_params.push_back(query_param(
      "force", "boolean",
      "Force is going to \"force\" Apply requests. It must be unset for "
      "non-apply patch requests."));
  item["patch"]["parameters"] = patch_params;
  Json patch_schema;
  patch_schema["type"] = "object";
  Json patch_content;
  for (const char *type :
       {"application/apply-patch+yaml", "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json"}) {
    patch_content[type]["schema"] = patch_schema;
  }
  item["patch"]["requestBody"]["content"] = patch_content;
  item["patch"]["requestBody"]["required"] = true;
  item["patch"]["responses"] = responses({"200", "201"}, kSecret.c_str());
  item["delete"] = operation("deleteCoreV1NamespacedSecret", "delete",
                             "delete a Secret");
  item["delete"]["parameters"] = Json::array(
      {query_param("dryRun", "string", "dry run"),
       query_param("gracePeriodSeconds", "integer", "grace period"),
       query_param("propagationPolicy", "string", "propagation policy")});
  item["delete"]["requestBody"]["content"] = json_content(
      ref("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"), false);
  item["delete"]["responses"] =
      responses({"200", "202"}, "io.k8s.apimachinery.pkg.apis.meta.v1.Status");
  item["parameters"] = Json::array(
      {path_param("name", "name of the Secret"),
       path_param("namespace", "object name and auth scope, such as for "
                               "teams and projects"),
       query_param("pretty", "string",
                   "If 'true', then the output is pretty printed.")});

  Json all;
  all["get"] = operation("listCoreV1SecretForAllNamespaces", "list",
                         "list or watch objects of kind Secret");
  all["get"]["parameters"] = list_params;
  all["get"]["responses"] = responses({"200"}, kList.c_str());

  Json doc;
  doc["openapi"] = "3.0.0";
  doc["info"]["title"] = "Kubernetes";
  doc["info"]["version"] = "v1.26.5";
  doc["paths"]["/api/v1/namespaces/{namespace}/secrets"] = collection;
  doc["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"] = item;
  doc["paths"]["/api/v1/secrets"] = all;
  doc["components"] = Json::parse(kComponents);
  Json bearer;
  bearer["type"] = "apiKey";
  bearer["name"] = "authorization";
  bearer["in"] = "header";
  doc["components"]["securitySchemes"]["BearerToken"] = bearer;
  doc["security"] = Json::array({{{"BearerToken", Json::array()}}});
  return doc;
}


}  // namespace

const std::string &openapi_v3_api_v1() {
  static const std::string doc = build_document().dump();
  return doc;
}

const std::string &openapi_v3_api_v1_hash() {
  static const std::string hash = openapi_document_hash(openapi_v3_api_v1());
  return hash;
}

std::string openapi_v3_index() {
  Json index;
  index["paths"]["api/v1"]["serverRelativeURL"] =
      "/openapi/v3/api/v1?hash=" + openapi_v3_api_v1_hash();
  return index.dump();
}

std::string openapi_document_hash(const std::string &data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr) !=
      1) {
    return "0";
  }
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace kube_test

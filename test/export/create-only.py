"""Prints, as JSON, each given CloudFormation resource type's createOnlyProperties (a change replaces the resource)
from the provider schemas cfn-lint ships (the registry schemas of us-east-1)."""
import json
import sys

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

out = {}
for resource_type in sys.argv[1:]:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    out[resource_type] = [p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])]
print(json.dumps(out))

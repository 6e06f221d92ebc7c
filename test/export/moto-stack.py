"""Drives moto's CloudFormation and EC2 (a moto server on 127.0.0.1) with boto3 for test/export/cloudformation.test.ts.

argv: ENDPOINT TEMPLATE_FILE SECRET_ARN. Creates a VPC and subnet, the stack with a moto AMI as ImageId, reads the
EC2 resources, updates ImageId to another AMI, reads them again; prints one JSON document. Asserts nothing itself.
"""
import base64
import json
import sys

import boto3

endpoint, template_file, secret_arn = sys.argv[1], sys.argv[2], sys.argv[3]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
ec2 = session.client("ec2", endpoint_url=endpoint)
cfn = session.client("cloudformation", endpoint_url=endpoint)
body = open(template_file).read()

vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
amis = sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[:2]


def params(image, attach="true"):
    values = {
        "ImageId": image,
        "VpcId": vpc,
        "SubnetId": subnet,
        "AvailabilityZone": "eu-west-1a",
        "AllowedCidr": "203.0.113.7/32",
        "AttachDataVolume": attach,
    }
    if secret_arn:
        values["AdminPasswordSecretArn"] = secret_arn
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def snapshot():
    res = {r["LogicalResourceId"]: r for r in cfn.describe_stack_resources(StackName="pmm")["StackResources"] if "LogicalResourceId" in r}
    stack = cfn.describe_stacks(StackName="pmm")["Stacks"][0]
    volume_id = res["DataVolume"]["PhysicalResourceId"]
    # moto 5.2.1 drops the logical id of a resource it replaced on update, so the instance is found by its tag.
    live = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:cnvm:export", "Values": ["pmm1"]}])["Reservations"] for i in r["Instances"] if i["State"]["Name"] not in ("terminated", "shutting-down")]
    if len(live) != 1:
        raise SystemExit(f"expected one live instance of the stack, found {[i['InstanceId'] for i in live]}")
    instance = live[0]
    instance_id = instance["InstanceId"]
    user_data = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"].get("Value", "")
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    groups = ec2.describe_security_groups(GroupIds=[res["SecurityGroup"]["PhysicalResourceId"]])["SecurityGroups"][0]
    addresses = ec2.describe_addresses()["Addresses"]
    all_instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    return {
        "status": stack["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        "resources": sorted(res.keys()),
        "instance": {"id": instance_id, "image": instance["ImageId"], "type": instance["InstanceType"], "state": instance["State"]["Name"], "subnet": instance.get("SubnetId"), "groups": [g["GroupId"] for g in instance.get("SecurityGroups", [])]},
        "userData": base64.b64decode(user_data).decode() if user_data else "",
        "volume": {"id": volume_id, "size": volume["Size"], "type": volume["VolumeType"], "encrypted": volume["Encrypted"], "az": volume["AvailabilityZone"], "attachments": volume["Attachments"], "tags": {t["Key"]: t["Value"] for t in volume.get("Tags", [])}},
        "ingress": sorted((p["FromPort"], r["CidrIp"]) for p in groups["IpPermissions"] for r in p["IpRanges"]),
        "addresses": [{"ip": a.get("PublicIp"), "instance": a.get("InstanceId"), "domain": a.get("Domain")} for a in addresses],
        "instances": {i["InstanceId"]: i["State"]["Name"] for i in all_instances},
        "volumes": [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]],
    }


out = {"amis": amis}
cfn.create_stack(StackName="pmm", TemplateBody=body, Parameters=params(amis[0]))
out["created"] = snapshot()
# The two-step AMI replacement documented in docs/export.md: detach, then the new AMI with the volume attached.
cfn.update_stack(StackName="pmm", TemplateBody=body, Parameters=params(amis[0], "false"))
out["detached"] = snapshot()
cfn.update_stack(StackName="pmm", TemplateBody=body, Parameters=params(amis[1], "true"))
out["replaced"] = snapshot()
cfn.delete_stack(StackName="pmm")
# moto keeps the instance whose resource it lost on update: terminate what is left, as the owner of the account would.
left = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
if left:
    ec2.terminate_instances(InstanceIds=left)
out["afterDelete"] = {
    "instancesTerminated": left,
    "volumes": [{"id": v["VolumeId"], "state": v["State"]} for v in ec2.describe_volumes()["Volumes"]],
}
print(json.dumps(out, default=str))

"""The fan-out manifests of docs/fanout/ parse and carry the fields that make them work.

No Kubernetes schema validator (kubeconform, kubeval) is packaged in Debian 12, so the fields
that matter are checked here: an Indexed Job whose index becomes --shard K/N (1-based), a memory
limit per pod, the run directories on one shared volume, and a CI matrix over the shards with a
merge job after it.
"""
import pathlib
import re

import yaml

FANOUT = pathlib.Path(__file__).resolve().parents[2] / "docs" / "fanout"


def load_all(name):
    with open(FANOUT / name, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def by_kind(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    assert found, f"no {kind} in {[d.get('kind') for d in docs]}"
    return found


def parse_size(text):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", str(text))
    assert m, f"memory {text!r} is not a quantity in Ki/Mi/Gi"
    return int(m.group(1)) * units[m.group(2)]


def soak_job():
    docs = load_all("k8s-soak-job.yaml")
    (job,) = [j for j in by_kind(docs, "Job") if j["metadata"]["name"] == "infermem-soak"]
    return docs, job


def test_soak_job_is_indexed_and_its_index_is_the_1_based_shard():
    _, job = soak_job()
    assert job["apiVersion"] == "batch/v1"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert n >= 2 and spec["parallelism"] <= n
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (soak,) = [c for c in pod["containers"] if c["name"] == "soak"]
    script = "\n".join(soak["command"] + soak["args"])
    assert "infermem soak" in script
    assert "$((JOB_COMPLETION_INDEX + 1))" in script
    assert f'--shard "$k/{n}"' in script, "N of --shard is the Job's completions"
    assert "--seed" in script, "every shard needs the same seed"


def test_every_soak_pod_has_a_memory_limit_and_the_shared_volume():
    docs, job = soak_job()
    pod = job["spec"]["template"]["spec"]
    (soak,) = [c for c in pod["containers"] if c["name"] == "soak"]
    limit = parse_size(soak["resources"]["limits"]["memory"])
    assert limit >= 256 * 2**20
    assert parse_size(soak["resources"]["requests"]["memory"]) <= limit
    mounts = {m["name"]: m["mountPath"] for m in soak["volumeMounts"]}
    assert "/runs/shard-$k" in soak["args"][0] and mounts["runs"] == "/runs"
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes["runs"]["persistentVolumeClaim"]["claimName"]
    (pvc,) = [p for p in by_kind(docs, "PersistentVolumeClaim") if p["metadata"]["name"] == claim]
    assert "ReadWriteMany" in pvc["spec"]["accessModes"], "all pods write to it at once"


def test_merge_job_reads_every_shard_from_the_same_volume():
    _, soak = soak_job()
    n = soak["spec"]["completions"]
    (merge,) = by_kind(load_all("k8s-merge-job.yaml"), "Job")
    pod = merge["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    script = c["args"][0]
    assert "infermem merge" in script and "-o /runs/merged" in script
    for k in range(1, n + 1):
        assert f"/runs/shard-{k}" in script
    assert "memory" in c["resources"]["limits"]
    (runs,) = [v for v in pod["volumes"] if v["name"] == "runs"]
    assert runs["persistentVolumeClaim"]["claimName"] == "infermem-runs"


def test_github_actions_matrix_runs_every_shard_then_merges():
    with open(FANOUT / "github-actions.yml", encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    jobs = wf["jobs"]
    shards = jobs["soak"]["strategy"]["matrix"]["shard"]
    n = len(shards)
    assert shards == list(range(1, n + 1)), "K is 1-based"
    assert jobs["soak"]["strategy"]["fail-fast"] is False
    soak_runs = " ".join(s.get("run", "") for s in jobs["soak"]["steps"])
    assert f"--shard ${{{{ matrix.shard }}}}/{n}" in soak_runs
    assert "--seed" in soak_runs
    uploads = [s for s in jobs["soak"]["steps"] if s.get("uses", "").startswith("actions/upload")]
    assert uploads and "matrix.shard" in uploads[0]["with"]["name"]
    assert jobs["merge"]["needs"] == "soak"
    merge_runs = " ".join(s.get("run", "") for s in jobs["merge"]["steps"])
    assert "infermem merge" in merge_runs
    for k in shards:
        assert f"runs/shard-{k}" in merge_runs

"""MkDocs hooks (mkdocs.yml `hooks:`): the site is docs/ plus README.md as its home page and the
examples/ folder, with links written for the repository (as GitHub shows them) mapped to the
site's pages (CONTRIBUTING.md and CHANGELOG.md keep their names).

In the repository the pages link to each other as files: README.md to `docs/networks.md`,
docs/solve.md to `../examples/networks/q6.toml`, examples/networks/README.md to
`../../docs/networks.md`. In the site, docs/X is X, README.md is index.md and examples/ keeps its
place; each relative link is resolved against its page's place in the repository and written
again relative to the page's place in the site, so `mkdocs build --strict` checks every one.
"""

from __future__ import annotations

import os
import posixpath
import re

from mkdocs.structure.files import File

ROOT = os.path.dirname(os.path.abspath(__file__))
LINK = re.compile(r"(\]\()([^)\s]+)(\))")
SKIP = {"__pycache__", ".pytest_cache"}


TOP = ("CONTRIBUTING.md", "CHANGELOG.md")   # the repository's other pages for people


def repo_path(site_uri: str) -> str:
    """Where a site page lives in the repository."""
    if site_uri == "index.md":
        return "README.md"
    if site_uri.startswith("examples/") or site_uri in TOP:
        return site_uri
    return "docs/" + site_uri


def site_path(repo: str) -> str | None:
    """Where a repository file lives in the site (None: not in the site)."""
    if repo == "README.md":
        return "index.md"
    if repo in TOP:
        return repo
    if repo.startswith("docs/"):
        return repo[len("docs/"):]
    if repo.startswith("examples/"):
        if os.path.isdir(os.path.join(ROOT, repo)):
            readme = posixpath.join(repo, "README.md")
            return readme if os.path.isfile(os.path.join(ROOT, readme)) else None
        return repo
    return None


def relink(markdown: str, site_uri: str) -> str:
    """Each relative link of a page, mapped from the repository's layout to the site's."""
    here = posixpath.dirname(repo_path(site_uri))
    site_here = posixpath.dirname(site_uri)

    def one(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"[a-z]+:|#|/", target):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        repo = posixpath.normpath(posixpath.join(here, path)).rstrip("/")
        mapped = site_path(repo)
        if mapped is None:
            return match.group(0)
        new = posixpath.relpath(mapped, site_here or ".")
        return f"{match.group(1)}{new}{hash_}{anchor}{match.group(3)}"

    return LINK.sub(one, markdown)


def on_files(files, config):
    """Add README.md as the home page, CONTRIBUTING.md, CHANGELOG.md and every file under
    examples/."""
    for repo, uri in (("README.md", "index.md"), *((name, name) for name in TOP)):
        with open(os.path.join(ROOT, repo), encoding="utf-8") as handle:
            files.append(File.generated(config, uri, content=handle.read()))
    for folder, dirs, names in os.walk(os.path.join(ROOT, "examples")):
        dirs[:] = sorted(d for d in dirs if d not in SKIP and not d.endswith(".egg-info"))
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")
            files.append(File(rel, ROOT, config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown, page, config, files):
    return relink(markdown, page.file.src_uri)

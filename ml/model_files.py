"""The link model's files: the fitted model with its metadata (features, data sizes,
held-out metrics, thresholds, version, time), and the metadata again as JSON beside
it, readable without Python. scikit-learn and joblib are imported only to save or
load: commands that merely check for a model (``idgraph resolve`` on an unchanged
store) start without them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.errors import ConfigError, NotFound

if TYPE_CHECKING:
    from ml.model import LinkModel

__all__ = ["METADATA_FILE", "MODEL_FILE", "load", "save"]

MODEL_FILE = "link-model.joblib"
METADATA_FILE = "link-model.json"


def save(model: LinkModel, metadata: dict[str, Any], folder: Path) -> Path:
    """Write the model and its metadata (JSON beside it, readable without Python)."""
    import joblib
    import sklearn

    folder.mkdir(parents=True, exist_ok=True)
    metadata = {**metadata, "sklearn_version": sklearn.__version__, "saved_at": time.time()}
    joblib.dump({"model": model, "metadata": metadata}, folder / MODEL_FILE)
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return folder / MODEL_FILE


def load(folder: Path) -> tuple[LinkModel, dict[str, Any]]:
    import joblib

    path = folder / MODEL_FILE
    if not path.exists():
        raise NotFound(f"no link model in {folder}; run `idgraph train`")
    try:
        stored = joblib.load(path)
    except Exception as e:  # a file from another scikit-learn, or damaged
        raise ConfigError(f"cannot load the link model {path}: {e}; retrain it") from e
    model = stored["model"]
    if not hasattr(model, "calibrator_"):  # fitted before the fold ensembles (ml/model.py)
        raise ConfigError(f"the link model {path} was saved by an older idgraph; retrain it")
    return model, stored["metadata"]

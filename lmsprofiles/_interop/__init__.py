"""LM Studio's own configuration formats, in and out of profiles.

* :mod:`._kv`: the table of LM Studio KV config keys and the profile fields they carry, and
  the conversion of ``{key, value}`` field lists to profile sections and back (through
  lmstudio SDK 1.5's own mapping);
* :mod:`._preset`, :mod:`._modelyaml`, :mod:`._lmsload`, :mod:`._host`: one module per
  source format, each a pure parser to :class:`._draft.Draft` values and, where the format
  can be written, a pure writer from a resolved config;
* :mod:`._draft`: the drafts of profile files and their commented YAML text;
* :mod:`._import`: the one I/O edge of ``lmsprofiles import`` (reading sources, writing files).
"""

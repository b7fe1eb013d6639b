"""The publish stage: a build, its runners, the output folder, releases and governance."""

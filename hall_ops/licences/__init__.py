"""The e-licence library (电子证照库) and uploaded material files: ``library`` issues,
verifies, revokes and imports licences and logs their use; ``signing`` holds the
algorithms and the departments' keys; ``store`` keeps scans of paper materials."""

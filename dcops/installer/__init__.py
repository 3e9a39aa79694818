"""What an OS installer is given by dcops: the per-host answer media (built here, not with tools a
fresh machine lacks), the validation of answer files with the installers' own rules, and the HTTP
server that hands the media to the BMC and hears the installer's completion call."""

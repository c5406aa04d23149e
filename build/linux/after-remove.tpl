#!/bin/bash
# electron-builder's Linux after-remove, for the /usr/bin/tether link after-install.tpl makes.

if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove 'tether' '/opt/${sanitizedProductName}/resources/bin/tether'
else
    rm -f '/usr/bin/tether'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
  rm -f "$APPARMOR_PROFILE_DEST"
fi

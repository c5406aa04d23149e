#!/bin/bash
# electron-builder's Linux after-install (app-builder-lib/templates/linux/after-install.tpl), but
# /usr/bin/tether is the app's command line (resources/bin/tether), not its GUI (tether-app).

if type update-alternatives 2>/dev/null >&1; then
    if [ -L '/usr/bin/tether' -a -e '/usr/bin/tether' -a "`readlink '/usr/bin/tether'`" != '/etc/alternatives/tether' ]; then
        rm -f '/usr/bin/tether'
    fi
    update-alternatives --install '/usr/bin/tether' 'tether' '/opt/${sanitizedProductName}/resources/bin/tether' 100 || ln -sf '/opt/${sanitizedProductName}/resources/bin/tether' '/usr/bin/tether'
else
    ln -sf '/opt/${sanitizedProductName}/resources/bin/tether' '/usr/bin/tether'
fi

# Check if user namespaces are supported by the kernel and working with a quick test:
if ! { [[ -L /proc/self/ns/user ]] && unshare --user true; }; then
    # Use SUID chrome-sandbox only on systems without user namespaces:
    chmod 4755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
else
    chmod 0755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
fi

if hash update-mime-database 2>/dev/null; then
    update-mime-database /usr/share/mime || true
fi

if hash update-desktop-database 2>/dev/null; then
    update-desktop-database /usr/share/applications || true
fi

# Install apparmor profile (Ubuntu 24+), where this AppArmor supports the bundled profile.
if apparmor_status --enabled > /dev/null 2>&1; then
  APPARMOR_PROFILE_SOURCE='/opt/${sanitizedProductName}/resources/apparmor-profile'
  APPARMOR_PROFILE_TARGET='/etc/apparmor.d/${executable}'
  if apparmor_parser --skip-kernel-load --debug "$APPARMOR_PROFILE_SOURCE" > /dev/null 2>&1; then
    cp -f "$APPARMOR_PROFILE_SOURCE" "$APPARMOR_PROFILE_TARGET"
    if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET"
    fi
  else
    echo "Skipping the installation of the AppArmor profile as this version of AppArmor does not seem to support the bundled profile"
  fi
fi

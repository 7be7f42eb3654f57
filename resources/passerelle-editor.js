/*
 * What the Passerelle node dialogs share in the Node-RED editor: the validators of their fields
 * and the "who can reach this listener" tip. Node-RED serves this file from the module's
 * resources/ folder; each dialog loads it with a <script src> before its own script.
 * Plain ES5, like the editor's own scripts.
 */
(function () {
    'use strict';
    if (window.PasserelleEditor) { return; }

    // A whole ${VARIABLE}, replaced from the hub's environment when the flow starts.
    var ENV_VAR = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
    // A host name, an IPv4 or IPv6 address (no brackets), or a whole ${VARIABLE} such as ${HOST}.
    var HOST = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z0-9][A-Za-z0-9._-]*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
    // An HL7 HD value for MSH-3..6: no field, component, repetition, escape or sub-component separator.
    var HL7_TEXT = /^[^|^~\\&\r\n]*$/;

    function isBlank(v) {
        return v === '' || v === undefined || v === null;
    }

    /**
     * The validators of one node type. `type` is its name, `t` its catalogue (a function that
     * calls the node definition's `_`, which exists only once the type is registered): error
     * texts are `<type>.errors.<key>`, field labels `<type>.label.<key>`.
     */
    function validators(type, t) {
        function fail(opt, key, args) {
            return opt ? t(type + '.errors.' + key, args) : false;
        }
        function numberIn(v, min, max, integer) {
            var n = Number(v);
            return !isBlank(v) && RED.validators.number()(v) === true && isFinite(n) && n >= min && n <= max && (!integer || Math.floor(n) === n);
        }
        return {
            fail: fail,
            /** A value matching `pattern` (blank allowed when said), else the error `key`. */
            pattern: function (pattern, key, blankAllowed) {
                return function (v, opt) {
                    if (blankAllowed && isBlank(v)) { return true; }
                    return pattern.test(isBlank(v) ? '' : String(v)) ? true : fail(opt, key);
                };
            },
            /** A listening address: blank (loopback), a host, an address or ${VARIABLE}. */
            host: function () {
                return function (v, opt) { return isBlank(v) || HOST.test(v) ? true : fail(opt, 'invalid-host'); };
            },
            /** A TCP port or a whole ${VARIABLE}. */
            port: function () {
                return function (v, opt) { return ENV_VAR.test(String(v)) || numberIn(v, 1, 65535, true) ? true : fail(opt, 'invalid-port', { min: 1, max: 65535 }); };
            },
            /** Blank or an MQTT topic filter: '+' a whole level, '#' only as the last. */
            topicFilter: function () {
                return function (v, opt) {
                    if (isBlank(v) || ENV_VAR.test(v)) { return true; }
                    var levels = String(v).split('/');
                    var ok = levels.every(function (level, i) {
                        if (level.indexOf('#') !== -1) { return level === '#' && i === levels.length - 1; }
                        if (level.indexOf('+') !== -1) { return level === '+'; }
                        return true;
                    });
                    return ok ? true : fail(opt, 'invalid-topic');
                };
            },
            hl7Text: function () {
                return function (v, opt) { return HL7_TEXT.test(v || '') ? true : fail(opt, 'invalid-hl7-text'); };
            },
            /**
             * A number within [min, max] or a ${VARIABLE}. options: integer (default true),
             * blank (blank allowed), and either labelKey (the error 'range-integer' or 'range'
             * naming the field) or errorKey (that error, with {min, max}).
             */
            range: function (min, max, options) {
                var integer = options.integer !== false;
                return function (v, opt) {
                    if (options.blank && isBlank(v)) { return true; }
                    if (ENV_VAR.test(String(v)) || numberIn(v, min, max, integer)) { return true; }
                    if (options.labelKey) {
                        return fail(opt, integer ? 'range-integer' : 'range', { prop: t(type + '.label.' + options.labelKey), min: min, max: max });
                    }
                    return fail(opt, options.errorKey, { min: min, max: max });
                };
            }
        };
    }

    /**
     * Shows, under a host field, from where the listener will be reachable as the host is typed:
     * `<type>.tip.host-empty|host-env|host-loopback|host-all|host-one`.
     */
    function showReach(type, t, input, tip) {
        function show() {
            var host = ($(input).val() || '').trim();
            var key = host === '' ? 'host-empty'
                : ENV_VAR.test(host) ? 'host-env'
                : /^(127\.|localhost$|::1$)/.test(host) ? 'host-loopback'
                : (host === '0.0.0.0' || host === '::') ? 'host-all' : 'host-one';
            $(tip).html(t(type + '.tip.' + key));
        }
        $(input).on('change keyup', show);
        show();
    }

    window.PasserelleEditor = { ENV_VAR: ENV_VAR, HOST: HOST, isBlank: isBlank, validators: validators, showReach: showReach };
})();

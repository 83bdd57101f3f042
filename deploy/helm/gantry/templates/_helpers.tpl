{{/* Labels every object carries. */}}
{{- define "gantry.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: gantry
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gantry
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "scheduler"). */}}
{{- define "gantry.selectorLabels" -}}
app.kubernetes.io/name: gantry
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects. */}}
{{- define "gantry.componentLabels" -}}
{{ include "gantry.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gantry.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The scheduler's lease namespace. */}}
{{- define "gantry.scheduler.leaseNamespace" -}}
{{ .Values.scheduler.leaderElection.namespace | default .Release.Namespace }}
{{- end }}

{{/*
The scheduler's KubeSchedulerConfiguration: scheduler.config, or the shipped
files/scheduler-config.yaml, with leaderElection.resourceNamespace set to the
lease namespace. The text is edited rather than re-serialized so that the
ConfigMap keeps the file's comments.
*/}}
{{- define "gantry.scheduler.config" -}}
{{- $cfg := .Values.scheduler.config | default (.Files.Get "files/scheduler-config.yaml") -}}
{{- $le := dig "leaderElection" dict (fromYaml $cfg) -}}
{{- if not (dig "leaderElect" false $le) -}}
{{- fail "scheduler config: leaderElection.leaderElect must be true; the scheduler runs replicated and must elect a leader" -}}
{{- end -}}
{{- if ne (toString (dig "resourceName" "" $le)) "gantry-scheduler" -}}
{{- fail "scheduler config: leaderElection.resourceName must be gantry-scheduler (the only lease the chart's RBAC lets it hold)" -}}
{{- end -}}
{{- if not (regexMatch "(?m)^  resourceNamespace: .*$" $cfg) -}}
{{- fail "scheduler config: leaderElection.resourceNamespace must be set, indented by two spaces, for the chart to replace it" -}}
{{- end -}}
{{- regexReplaceAll "(?m)^  resourceNamespace: .*$" $cfg (printf "  resourceNamespace: %s" (include "gantry.scheduler.leaseNamespace" .)) -}}
{{- end }}

{{/* Whether a bind address listens on loopback only (or is off). */}}
{{- define "gantry.isLoopback" -}}
{{- if or (eq . "") (hasPrefix "127." .) (hasPrefix "localhost:" .) (hasPrefix "[::1]:" .) -}}true{{- end -}}
{{- end }}

{{/* The port of a bind address ("host:port" or ":port"). */}}
{{- define "gantry.port" -}}
{{- regexReplaceAll "^.*:" . "" -}}
{{- end }}

{{/* The pod and container security settings of a non-root component. */}}
{{- define "gantry.podSecurityContext.nonRoot" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gantry.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Preferred anti-affinity that spreads a component's replicas over nodes. */}}
{{- define "gantry.spread" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "gantry.selectorLabels" . | nindent 12 }}
{{- end }}
